#include "service/ConnectionRegistry.h"

#include <Poco/Exception.h>

#include <chrono>

namespace echod {

ConnectionRegistry::ConnectionRegistry(std::size_t capacity, std::size_t perAddressLimit)
    : _capacity(capacity), _perAddressLimit(perAddressLimit) {}

std::optional<ErrorReason> ConnectionRegistry::admit(const Poco::Net::StreamSocket& socket) {
  std::string address;
  if (_perAddressLimit > 0) address = socket.peerAddress().host().toString();
  std::lock_guard<std::mutex> lock(_mutex);
  _released.clear();
  if (_draining.load(std::memory_order_relaxed)) return ErrorReason::ShuttingDown;
  if (_entries.size() >= _capacity) return ErrorReason::ServerBusy;
  if (_perAddressLimit > 0) {
    auto& count = _perAddress[address];
    if (count >= _perAddressLimit) return ErrorReason::TooManyConnections;
    ++count;
  }
  _entries.emplace(socket.impl(), Entry{socket, std::move(address)});
  return std::nullopt;
}

void ConnectionRegistry::release(Poco::Net::StreamSocket& socket) {
  std::optional<Poco::Net::StreamSocket> entrySocket;
  {
    std::lock_guard<std::mutex> lock(_mutex);
    const auto it = _entries.find(socket.impl());
    if (it != _entries.end()) {
      if (_perAddressLimit > 0) {
        const auto count = _perAddress.find(it->second.address);
        if (count != _perAddress.end() && --count->second == 0) _perAddress.erase(count);
      }
      entrySocket.emplace(std::move(it->second.socket));
      _entries.erase(it);
      if (_entries.empty()) _emptied.notify_all();
    }
  }
  // Closed outside the lock (the acceptor waits on it; a close sends our FIN
  // and, on loopback, delivers it), but only once the entry is gone, so that a
  // drain cannot shut down a descriptor number already reused.
  try {
    socket.close();
  } catch (const Poco::Exception&) {
    // Closing a socket the peer reset: nothing left to do.
  }
  if (!entrySocket) return;
  std::lock_guard<std::mutex> lock(_mutex);
  _released.push_back(std::move(*entrySocket));
}

void ConnectionRegistry::beginDrain() {
  std::lock_guard<std::mutex> lock(_mutex);
  _draining.store(true, std::memory_order_release);
  wakeAllLocked();
}

void ConnectionRegistry::abortAll() {
  std::lock_guard<std::mutex> lock(_mutex);
  _aborting.store(true, std::memory_order_release);
  wakeAllLocked();
}

void ConnectionRegistry::wakeAllLocked() {
  for (auto& [key, entry] : _entries) {
    try {
      entry.socket.shutdownReceive();
    } catch (const Poco::Exception&) {
      // The peer is already gone; its connection ends on its own.
    }
  }
}

bool ConnectionRegistry::waitUntilEmpty(Poco::Timespan timeout) {
  std::unique_lock<std::mutex> lock(_mutex);
  return _emptied.wait_for(lock, std::chrono::microseconds(timeout.totalMicroseconds()),
                           [this] { return _entries.empty(); });
}

std::size_t ConnectionRegistry::size() const {
  std::lock_guard<std::mutex> lock(_mutex);
  return _entries.size();
}

}  // namespace echod
