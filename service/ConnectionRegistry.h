#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/Replies.h"

namespace echod {

/// Every connection the server has admitted, running or still queued for a
/// thread: so admission can count them (busy, per address) and shutdown can
/// wake them. TCPServer::stop() leaves running connections alone; this is how
/// the server reaches them (docs/protocol.md, "Shutdown").
class ConnectionRegistry {
 public:
  /// `capacity`: connections held at once (threads + queue); `perAddressLimit`: 0 for none.
  ConnectionRegistry(std::size_t capacity, std::size_t perAddressLimit);

  /// Admits a freshly accepted socket, or says why not. Acceptor thread.
  std::optional<ErrorReason> admit(const Poco::Net::StreamSocket& socket);

  /// The connection of an admitted socket has ended: forget it, then close it,
  /// so that a wake can never reach a reused descriptor.
  void release(Poco::Net::StreamSocket& socket);

  /// Refuse new connections and wake every admitted one: a read blocked in
  /// the kernel returns end of stream once the data already received is read.
  void beginDrain();

  /// After the drain time: connections still open give up with `ERR shutting down`.
  void abortAll();

  /// Waits until no admitted connection is left, at most `timeout`. True if none is left.
  bool waitUntilEmpty(Poco::Timespan timeout);

  bool draining() const noexcept { return _draining.load(std::memory_order_acquire); }
  bool aborting() const noexcept { return _aborting.load(std::memory_order_acquire); }
  std::size_t size() const;

 private:
  struct Entry {
    Poco::Net::StreamSocket socket;
    std::string address;  ///< peer host, only with a per-address limit
  };
  void wakeAllLocked();

  const std::size_t _capacity;
  const std::size_t _perAddressLimit;
  mutable std::mutex _mutex;
  std::condition_variable _emptied;
  std::map<const void*, Entry> _entries;  ///< keyed by the socket's shared implementation
  std::unordered_map<std::string, std::size_t> _perAddress;
  /// Closed sockets whose memory the acceptor frees on its next admit(). POCO
  /// counts socket references with atomics in code not built for TSan; freeing
  /// them after our mutex hand-over keeps the happens-before visible to it.
  std::vector<Poco::Net::StreamSocket> _released;
  std::atomic<bool> _draining{false};
  std::atomic<bool> _aborting{false};
};

}  // namespace echod
