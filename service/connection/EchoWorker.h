#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServerConnection.h>

#include "service/connection/ConnectionContext.h"

namespace echod {

/// What a worker thread runs for each connection it is given: POCO's
/// TCPServerConnection, serving one admitted socket (EchoConnection) on the
/// worker's own thread (WorkerThreads), which then parks for the next.
class EchoWorker : public Poco::Net::TCPServerConnection {
 public:
  /// `slot` is the socket's registry entry, already running on this worker.
  EchoWorker(const Poco::Net::StreamSocket& socket, ConnectionSlot& slot, const ConnectionContext& context)
      : TCPServerConnection(socket), _slot(slot), _context(context) {}

  void run() override;

 private:
  ConnectionSlot& _slot;
  const ConnectionContext& _context;
};

}  // namespace echod
