#include "service/connection/ConnectionRegistry.h"

#include <Poco/Exception.h>

#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "service/connection/SocketEndings.h"
#include "service/core/ListeningSocket.h"

namespace echod {

ConnectionRegistry::ConnectionRegistry(std::size_t capacity, std::size_t perAddressLimit, WorkerHandOff::Limits workers)
    : _capacity(capacity), _perAddressLimit(perAddressLimit), _handOff(workers) {
  // Room for every connection it may hold, up to 64 Ki: no rehash of a full
  // table under the lock in the middle of a burst.
  _entries.reserve(std::min<std::size_t>(capacity, 65536));
}

ConnectionRegistry::Admission ConnectionRegistry::admit(const Poco::Net::StreamSocket& socket, Listener listener) {
  // The PROXY listener's peer is the proxy: its client is counted once the header names it.
  const bool countAddress = _perAddressLimit > 0 && !kindOf(listener).proxyHeader;
  std::string address;
  if (countAddress) address = peerOf(socket).host().toString();
  std::unique_lock<std::mutex> lock(_mutex);
  _released.clear();
  if (_draining.load(std::memory_order_relaxed)) return {ErrorReason::ShuttingDown};
  if (_entries.size() >= _capacity) return {ErrorReason::ServerBusy};
  if (countAddress) {
    auto& count = _perAddress[address];
    if (count >= _perAddressLimit) return {ErrorReason::TooManyConnections};
    ++count;
  }
  Slot& slot =
      _entries.try_emplace(socket.impl(), socket, std::move(address), listener, CoarseClock::nowMs()).first->second;
  ++_open[static_cast<std::size_t>(slot.listener)];
  slot.older = _newest;
  (_newest != nullptr ? _newest->newer : _oldest) = &slot;
  _newest = &slot;
  WorkerHandOff::Parking* worker = _handOff.takeParked();
  if (worker == nullptr) {
    _handOff.enqueue(socket.impl(), _capacity, [this](const void* key) {
      const auto it = _entries.find(key);
      return it != _entries.end() && !it->second.running;
    });
    return {std::nullopt, _handOff.wantWorker()};
  }
  slot.running = true;
  ++_running;
  WorkerHandOff::give(*worker, slot);
  lock.unlock();
  WorkerHandOff::call(*worker);
  return {};
}

ConnectionRegistry::Slot* ConnectionRegistry::park(Poco::Net::StreamSocket& next, std::int64_t timeoutMs,
                                                   bool arriving) {
  std::unique_lock<std::mutex> lock(_mutex);
  if (arriving) _handOff.arrived();
  for (;;) {
    if (_draining.load(std::memory_order_relaxed)) {
      _handOff.leave();
      return nullptr;
    }
    while (const void* key = _handOff.popQueued()) {  // the longest-waiting queued connection, if any
      const auto it = _entries.find(key);
      if (it == _entries.end() || it->second.running) continue;  // answered, or already served
      it->second.running = true;
      ++_running;
      next = it->second.socket;
      return &it->second;
    }
    if (Slot* slot = _handOff.park(lock, next, timeoutMs)) return slot;
    // Sent away by the drain (seen above), or nothing came within timeoutMs.
    if (!_draining.load(std::memory_order_relaxed) && _handOff.mayRetire()) return nullptr;
  }
}

std::size_t ConnectionRegistry::workerNotStarted() {
  std::lock_guard<std::mutex> lock(_mutex);
  _handOff.notStarted();
  if (_entries.size() - _running <= _handOff.starting()) return 0;  // every queued one has a worker coming
  while (const void* key = _handOff.popNewestQueued()) {
    const auto it = _entries.find(key);
    if (it == _entries.end() || it->second.running) continue;
    answerQueued(it, ErrorReason::ServerBusy);
    return 1;
  }
  return 0;
}

bool ConnectionRegistry::claimClient(Slot& slot, std::string host, std::string client) {
  std::lock_guard<std::mutex> lock(_mutex);
  if (_perAddressLimit > 0) {
    auto& count = _perAddress[host];
    if (count >= _perAddressLimit) return false;
    ++count;
    slot.address = std::move(host);
  }
  slot.proxiedClient = std::move(client);
  return true;
}

Poco::Net::StreamSocket ConnectionRegistry::forgetLocked(Map::iterator it) {
  Slot& slot = it->second;
  if (_perAddressLimit > 0 && !slot.address.empty()) {
    const auto count = _perAddress.find(slot.address);
    if (count != _perAddress.end() && --count->second == 0) _perAddress.erase(count);
  }
  if (slot.running) --_running;
  --_open[static_cast<std::size_t>(slot.listener)];
  (slot.older != nullptr ? slot.older->newer : _oldest) = slot.newer;
  (slot.newer != nullptr ? slot.newer->older : _newest) = slot.older;
  Poco::Net::StreamSocket socket = slot.socket;  // POCO 1.11 sockets copy a reference, they do not move
  _entries.erase(it);
  if (_entries.empty()) _emptied.notify_all();
  return socket;
}

void ConnectionRegistry::release(Poco::Net::StreamSocket& socket) {
  std::optional<Poco::Net::StreamSocket> entrySocket;
  {
    std::lock_guard<std::mutex> lock(_mutex);
    const auto it = _entries.find(socket.impl());
    if (it != _entries.end()) entrySocket.emplace(forgetLocked(it));
  }
  // Closed outside the lock (the acceptor waits on it; a close sends our FIN
  // and, on loopback, delivers it), but only once the entry is gone, so that a
  // drain cannot shut down a descriptor number already reused.
  try {
    socket.close();
  } catch (const Poco::Exception&) {
    // Closing a socket the peer reset: nothing left to do.
  }
  // Always through the lock, even when the entry was answered while queued:
  // whichever thread frees the socket then does so after this close.
  std::lock_guard<std::mutex> lock(_mutex);
  if (entrySocket) _released.push_back(std::move(*entrySocket));
}

ConnectionRegistry::Map::iterator ConnectionRegistry::answerQueued(Map::iterator it, ErrorReason reason) {
  // Under the lock, but none of these blocks: a send into an empty buffer, a
  // shutdown, reads of what already arrived, a close (docs/architecture.md,
  // "Locks"). Its key stays in the queue order until skipped.
  Poco::Net::StreamSocket socket = it->second.socket;
  refuseSocket(socket, reason);
  try {
    socket.close();
  } catch (const Poco::Exception&) {
    // Already reset by the peer.
  }
  auto next = std::next(it);
  _released.push_back(forgetLocked(it));
  return next;
}

void ConnectionRegistry::wake(Slot& slot, Wake why) {
  slot.wake.store(why, std::memory_order_release);
  // On the descriptor itself: POCO's TLS sockets make shutdownReceive() a
  // no-op. A peer already gone makes this fail harmlessly.
  const int fd = slot.socket.impl()->sockfd();
  if (fd >= 0) ::shutdown(fd, SHUT_RD);
}

void ConnectionRegistry::armOpeningDeadline(Slot& slot, std::int64_t timeoutMs) noexcept {
  const std::int64_t deadline = CoarseClock::nowMs() + timeoutMs;
  // Sequentially consistent with the sweep's reset of the earliest: either
  // this lowers it after the reset, or the sweep's look at every slot after
  // the reset sees this deadline.
  slot.openingDeadlineMs.store(deadline, std::memory_order_seq_cst);
  lowerEarliestDeadline(deadline);
}

void ConnectionRegistry::armAgeDeadline(Slot& slot, std::int64_t deadlineMs) noexcept {
  slot.ageDeadlineMs.store(deadlineMs, std::memory_order_seq_cst);  // as armOpeningDeadline
  lowerEarliestDeadline(deadlineMs);
}

void ConnectionRegistry::lowerEarliestDeadline(std::int64_t deadline) noexcept {
  std::int64_t earliest = _earliestDeadlineMs.load(std::memory_order_seq_cst);
  while (deadline < earliest && !_earliestDeadlineMs.compare_exchange_weak(earliest, deadline)) {
  }
}

ConnectionRegistry::SweepResult ConnectionRegistry::sweep(const SweepRules& rules, std::int64_t nowMs) {
  SweepResult result;
  std::lock_guard<std::mutex> lock(_mutex);
  if (_draining.load(std::memory_order_relaxed)) return result;  // shutdown owns every connection now
  // Queued connections wait in admission order, so their deadlines come in
  // that order: look only as far as the first that is not due.
  while (const void* key = _handOff.oldestQueued()) {
    const auto it = _entries.find(key);
    if (it == _entries.end() || it->second.running) {  // answered, or served: a stale key
      _handOff.popQueued();
      continue;
    }
    if (rules.queueMs <= 0 || !CoarseClock::due(it->second.admittedMs + rules.queueMs, nowMs)) break;
    _handOff.popQueued();
    answerQueued(it, ErrorReason::ServerBusy);
    ++result.queueTimeouts;
  }
  const std::size_t waiting = _entries.size() - _running;
  const bool underLoad = rules.idleUnderLoadMs > 0 && _running >= rules.maxThreads && waiting > 0;
  if (!underLoad && !CoarseClock::due(_nextIdleLookMs, nowMs) &&
      !CoarseClock::due(_earliestDeadlineMs.load(std::memory_order_seq_cst), nowMs)) {
    return result;  // no running connection can be due yet
  }
  _earliestDeadlineMs.store(kNever, std::memory_order_seq_cst);
  std::int64_t earliest = kNever;
  std::int64_t oldestLast = nowMs;                         // a connection admitted later has a later last message
  std::vector<std::pair<std::int64_t, Slot*>> idleEnough;  // eviction candidates under load
  std::size_t pendingEvictions = 0;
  for (auto& [key, slot] : _entries) {
    const std::int64_t last = lastMessageOf(slot);
    if (!slot.running) {  // queued: its idle time runs from its admission
      oldestLast = std::min(oldestLast, last);
      continue;
    }
    if (const Wake woken = slot.wake.load(std::memory_order_relaxed); woken != Wake::None) {
      if (woken == Wake::IdleUnderLoad) ++pendingEvictions;
      continue;
    }
    const std::int64_t opening = slot.openingDeadlineMs.load(std::memory_order_seq_cst);
    if (opening != 0) {
      if (CoarseClock::due(opening, nowMs)) {
        wake(slot, Wake::OpeningTimeout);
        continue;
      }
      earliest = std::min(earliest, opening);
    }
    // Its age counts once it is open: an opening under way keeps its own deadline.
    if (const std::int64_t age = slot.ageDeadlineMs.load(std::memory_order_seq_cst); age != 0) {
      if (opening == 0 && CoarseClock::due(age, nowMs)) {
        wake(slot, Wake::MaxAge);
        continue;
      }
      earliest = std::min(earliest, age);
    }
    if (rules.idleMs > 0 && CoarseClock::due(last + rules.idleMs, nowMs)) {
      wake(slot, Wake::IdleTimeout);
      ++result.idleClosed;
      continue;
    }
    oldestLast = std::min(oldestLast, last);
    if (underLoad && CoarseClock::due(last + rules.idleUnderLoadMs, nowMs)) idleEnough.emplace_back(last, &slot);
  }
  _nextIdleLookMs = rules.idleMs > 0 ? oldestLast + rules.idleMs : kNever;
  std::int64_t armed = _earliestDeadlineMs.load(std::memory_order_seq_cst);
  while (earliest < armed && !_earliestDeadlineMs.compare_exchange_weak(armed, earliest)) {
  }
  // Under load: one eviction per connection still waiting, longest idle first,
  // less the evictions whose threads have not come free yet.
  if (underLoad && waiting > pendingEvictions && !idleEnough.empty()) {
    const std::size_t evict = std::min(waiting - pendingEvictions, idleEnough.size());
    std::nth_element(idleEnough.begin(), idleEnough.begin() + static_cast<std::ptrdiff_t>(evict - 1), idleEnough.end());
    for (std::size_t i = 0; i < evict; ++i) wake(*idleEnough[i].second, Wake::IdleUnderLoad);
    result.evictedUnderLoad = evict;
  }
  return result;
}

std::size_t ConnectionRegistry::beginDrain() {
  std::size_t answered = 0;
  std::lock_guard<std::mutex> lock(_mutex);
  _draining.store(true, std::memory_order_release);
  _handOff.sendAllHome();
  for (auto it = _entries.begin(); it != _entries.end();) {
    if (!it->second.running) {
      it = answerQueued(it, ErrorReason::ShuttingDown);
      ++answered;
      continue;
    }
    if (it->second.wake.load(std::memory_order_relaxed) == Wake::None) wake(it->second, Wake::Drain);
    ++it;
  }
  return answered;
}

void ConnectionRegistry::abortAll() {
  std::lock_guard<std::mutex> lock(_mutex);
  _aborting.store(true, std::memory_order_release);
  for (auto& [key, slot] : _entries) wake(slot, slot.wake.load(std::memory_order_relaxed));
}

bool ConnectionRegistry::waitUntilEmpty(const Poco::Timespan& timeout) {
  std::unique_lock<std::mutex> lock(_mutex);
  return _emptied.wait_for(lock, std::chrono::microseconds(timeout.totalMicroseconds()),
                           [this] { return _entries.empty(); });
}

std::size_t ConnectionRegistry::size() const {
  std::lock_guard<std::mutex> lock(_mutex);
  return _entries.size();
}

ConnectionRegistry::Counts ConnectionRegistry::counts() const {
  std::lock_guard<std::mutex> lock(_mutex);
  return Counts{_running, _entries.size() - _running, _open, _handOff.parked()};
}

std::vector<ConnectionRegistry::View> ConnectionRegistry::snapshot(std::size_t limit, std::size_t& total) const {
  std::vector<View> views;
  views.reserve(limit);
  // Peers to ask the kernel for (TLS sockets: getpeername), outside the lock.
  std::vector<std::pair<std::size_t, Poco::Net::StreamSocket>> askKernel;
  std::vector<std::optional<Poco::Net::SocketAddress>> peers;
  peers.reserve(limit);
  const std::int64_t now = CoarseClock::nowMs();
  {
    std::lock_guard<std::mutex> lock(_mutex);
    total = _entries.size();
    for (const Slot* slot = _oldest; slot != nullptr && views.size() < limit; slot = slot->newer) {
      const char* state = !slot->running                                                 ? "queued"
                          : slot->openingDeadlineMs.load(std::memory_order_relaxed) != 0 ? "handshake"
                          : slot->wake.load(std::memory_order_relaxed) != Wake::None     ? "closing"
                          : slot->delaying.load(std::memory_order_relaxed)               ? "delaying"
                                                                                         : "open";
      const ConnectionStamps* stamps = slot->stamps.load(std::memory_order_acquire);
      const auto stamped = [stamps](const std::atomic<std::uint64_t> ConnectionStamps::*field) {
        return stamps != nullptr ? (stamps->*field).load(std::memory_order_relaxed) : 0;
      };
      views.push_back(View{slot->proxiedClient, std::string(), slot->listener, now - slot->admittedMs,
                           stamped(&ConnectionStamps::messages), stamped(&ConnectionStamps::bytesIn),
                           stamped(&ConnectionStamps::bytesOut), state, slot->faults.load(std::memory_order_relaxed)});
      peers.push_back(knownPeerOf(slot->socket));  // kept from accept(2): no system call
      if (!peers.back()) askKernel.emplace_back(views.size() - 1, slot->socket);
    }
  }
  for (auto& [index, socket] : askKernel) {
    try {
      peers[index] = socket.peerAddress();
    } catch (const Poco::Exception&) {
      // The peer already left: shown as "(gone)".
    }
  }
  if (!askKernel.empty()) {
    std::lock_guard<std::mutex> lock(_mutex);  // the references go where every other one goes (see _released)
    for (auto& entry : askKernel) _released.push_back(entry.second);
    askKernel.clear();
  }
  for (std::size_t i = 0; i < views.size(); ++i) {
    std::string peer = peers[i] ? peers[i]->toString() : "(gone)";
    if (views[i].peer.empty()) {
      views[i].peer = std::move(peer);
    } else {
      views[i].proxy = std::move(peer);  // a proxied client: the socket's peer is its proxy
    }
  }
  return views;
}

}  // namespace echod
