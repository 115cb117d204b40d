#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServerConnection.h>

#include <cstdint>

#include "service/connection/ConnectionContext.h"

namespace echod {

/// What POCO's TCPServer runs on a pooled thread for a dispatched socket. It
/// serves that connection (EchoConnection), then, instead of returning the
/// thread to POCO, takes the next itself (ConnectionRegistry::park): the
/// longest-queued connection if one waits, else the one the acceptor hands
/// straight to the most recently parked worker within kParkMs. POCO's
/// dispatcher returns its thread to the pool whenever its queue is empty, and
/// ThreadPool::getThread() scans every pooled thread (every 32nd call it also
/// housekeeps them all, joining the expired ones under the pool's lock), so
/// without this each new connection would cost time in proportion to the
/// pool, up to 16,384 threads. POCO is still what starts threads, when no
/// worker is free; a worker goes back to it when no connection came within
/// kParkMs, or at the drain.
class EchoWorker : public Poco::Net::TCPServerConnection {
 public:
  /// How long a worker waits, parked, for its next connection: a minute, as
  /// long as POCO keeps an idle pooled thread by default.
  static constexpr std::int64_t kParkMs = 60000;

  EchoWorker(const Poco::Net::StreamSocket& socket, const ConnectionContext& context)
      : TCPServerConnection(socket), _context(context) {}

  void run() override;

 private:
  const ConnectionContext& _context;
};

}  // namespace echod
