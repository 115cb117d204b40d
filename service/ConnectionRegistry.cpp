#include "service/ConnectionRegistry.h"

#include <Poco/Exception.h>

#include <linux/futex.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "service/ListeningSocket.h"

namespace echod {

void refuseSocket(Poco::Net::StreamSocket& socket, ErrorReason reason) {
  // Raw system calls on the descriptor: on the TLS listener POCO's own calls
  // would start a handshake, and this runs on the acceptor or the housekeeper.
  // A TLS client gets no text (none can be sent before a handshake), only
  // our FIN at once.
  std::size_t discardBudget = 64 * 1024;  ///< unread input dropped, so our close is not a reset
  const int fd = socket.impl()->sockfd();
  if (fd < 0) return;
  if (!socket.secure()) {
    // Nothing was ever written to this socket: its send buffer is empty.
    const std::string_view reply = errorReply(reason);
    [[maybe_unused]] const auto sent = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::shutdown(fd, SHUT_WR);
  // Unread input would turn our close into a RST racing the reply.
  std::array<char, 4096> sink{};
  discardArrived(fd, discardBudget, sink.data(), sink.size());
}

namespace {

/// Blocks while `word` is 0, at most `timeout` (a futex wait: returns at once
/// if the word is no longer 0, and may return early: callers look again).
void awaitCall(std::atomic<std::uint32_t>& word, std::chrono::nanoseconds timeout) {
  const auto ns = timeout.count();
  timespec relative{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, 0U, &relative, nullptr, 0U);
}

}  // namespace

void ConnectionRegistry::call(Parking& worker) {
  worker.called.store(1, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&worker.called), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0U);
}

ConnectionRegistry::ConnectionRegistry(std::size_t capacity, std::size_t perAddressLimit)
    : _capacity(capacity), _perAddressLimit(perAddressLimit) {
  _entries.reserve(std::min<std::size_t>(capacity, 1024));
}

ConnectionRegistry::Admission ConnectionRegistry::admit(const Poco::Net::StreamSocket& socket) {
  std::string address;
  if (_perAddressLimit > 0) address = peerOf(socket).host().toString();
  std::unique_lock<std::mutex> lock(_mutex);
  _released.clear();
  if (_draining.load(std::memory_order_relaxed)) return {ErrorReason::ShuttingDown};
  if (_entries.size() >= _capacity) return {ErrorReason::ServerBusy};
  if (_perAddressLimit > 0) {
    auto& count = _perAddress[address];
    if (count >= _perAddressLimit) return {ErrorReason::TooManyConnections};
    ++count;
  }
  Slot& slot = _entries.try_emplace(socket.impl(), socket, std::move(address), CoarseClock::nowMs()).first->second;
  ++_open[static_cast<std::size_t>(slot.listener)];
  if (_parked.empty()) {
    _queueOrder.push_back(socket.impl());
    if (_queueOrder.size() > 2 * _capacity + 16) compactQueueOrder();
    return {};
  }
  Parking* worker = _parked.back();
  _parked.pop_back();
  slot.running = true;
  ++_running;
  worker->slot = &slot;
  worker->socket.emplace(socket);
  lock.unlock();
  call(*worker);
  return {std::nullopt, true};
}

void ConnectionRegistry::compactQueueOrder() {
  std::deque<const void*> live;
  for (const void* key : _queueOrder) {
    const auto it = _entries.find(key);
    if (it != _entries.end() && !it->second.running) live.push_back(key);
  }
  _queueOrder.swap(live);
}

ConnectionRegistry::Slot* ConnectionRegistry::park(Poco::Net::StreamSocket& next, std::int64_t timeoutMs) {
  std::unique_lock<std::mutex> lock(_mutex);
  if (_draining.load(std::memory_order_relaxed)) return nullptr;
  while (!_queueOrder.empty()) {  // the longest-waiting queued connection, if any
    const auto it = _entries.find(_queueOrder.front());
    _queueOrder.pop_front();
    if (it == _entries.end() || it->second.running) continue;  // answered, or already served
    it->second.running = true;
    ++_running;
    next = it->second.socket;
    return &it->second;
  }
  Parking* me = nullptr;
  if (_freeParkings.empty()) {
    me = &_parkings.emplace_back();
  } else {
    me = _freeParkings.back();
    _freeParkings.pop_back();
  }
  me->slot = nullptr;
  me->leave = false;
  me->called.store(0, std::memory_order_relaxed);
  _parked.push_back(me);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (me->slot == nullptr && !me->leave) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) {
      _parked.erase(std::find(_parked.begin(), _parked.end(), me));
      break;
    }
    lock.unlock();
    awaitCall(me->called, left);
    lock.lock();
    // A late call meant for this place's previous user, or a spurious wake: wait on.
    if (me->slot == nullptr && !me->leave) me->called.store(0, std::memory_order_relaxed);
  }
  Slot* const slot = me->slot;
  if (slot != nullptr) next = *me->socket;
  me->socket.reset();  // under the lock, like every socket reference the registry drops (see _released)
  _freeParkings.push_back(me);
  return slot;
}

ConnectionRegistry::Slot* ConnectionRegistry::attach(const Poco::Net::StreamSocket& socket) {
  std::lock_guard<std::mutex> lock(_mutex);
  const auto it = _entries.find(socket.impl());
  if (it == _entries.end() || it->second.running) return nullptr;
  it->second.running = true;
  ++_running;
  return &it->second;
}

Poco::Net::StreamSocket ConnectionRegistry::forgetLocked(Map::iterator it) {
  if (_perAddressLimit > 0) {
    const auto count = _perAddress.find(it->second.address);
    if (count != _perAddress.end() && --count->second == 0) _perAddress.erase(count);
  }
  if (it->second.running) --_running;
  --_open[static_cast<std::size_t>(it->second.listener)];
  Poco::Net::StreamSocket socket = it->second.socket;  // POCO 1.11 sockets copy a reference, they do not move
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
  // POCO's queue still holds this socket; its worker, if one ever comes,
  // finds no entry (attach() returns null) and a closed socket.
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

ConnectionRegistry::SweepResult ConnectionRegistry::sweep(const SweepRules& rules, std::int64_t nowMs) {
  SweepResult result;
  std::vector<std::pair<std::int64_t, Slot*>> idleEnough;  // eviction candidates under load
  std::size_t pendingEvictions = 0;
  std::size_t waiting = 0;
  std::lock_guard<std::mutex> lock(_mutex);
  if (_draining.load(std::memory_order_relaxed)) return result;  // shutdown owns every connection now
  for (auto it = _entries.begin(); it != _entries.end();) {
    Slot& slot = it->second;
    if (!slot.running) {
      if (rules.queueMs > 0 && CoarseClock::due(slot.admittedMs + rules.queueMs, nowMs)) {
        it = answerQueued(it, ErrorReason::ServerBusy);
        ++result.queueTimeouts;
        continue;
      }
      ++waiting;
      if (rules.strandedMs > 0 && _running < rules.maxThreads &&
          CoarseClock::due(slot.admittedMs + rules.strandedMs, nowMs)) {
        ++result.stranded;
      }
    } else if (slot.wake.load(std::memory_order_relaxed) != Wake::None) {
      if (slot.wake.load(std::memory_order_relaxed) == Wake::IdleUnderLoad) ++pendingEvictions;
    } else if (const std::int64_t deadline = slot.handshakeDeadlineMs.load(std::memory_order_relaxed);
               deadline != 0 && CoarseClock::due(deadline, nowMs)) {
      wake(slot, Wake::HandshakeTimeout);
      ++result.handshakeTimeouts;
    } else {
      const std::int64_t last = slot.lastMessageMs.load(std::memory_order_relaxed);
      if (rules.idleMs > 0 && CoarseClock::due(last + rules.idleMs, nowMs)) {
        wake(slot, Wake::IdleTimeout);
        ++result.idleClosed;
      } else if (rules.idleUnderLoadMs > 0 && CoarseClock::due(last + rules.idleUnderLoadMs, nowMs)) {
        idleEnough.emplace_back(last, &slot);
      }
    }
    ++it;
  }
  // Under load: one eviction per connection still waiting, longest idle first,
  // less the evictions whose threads have not come free yet.
  if (_running >= rules.maxThreads && waiting > pendingEvictions && !idleEnough.empty()) {
    const std::size_t evict = std::min(waiting - pendingEvictions, idleEnough.size());
    std::nth_element(idleEnough.begin(), idleEnough.begin() + static_cast<std::ptrdiff_t>(evict - 1), idleEnough.end());
    for (std::size_t i = 0; i < evict; ++i) wake(*idleEnough[i].second, Wake::IdleUnderLoad);
    result.evictedUnderLoad = evict;
  }
  return result;
}

std::size_t ConnectionRegistry::refuseQueuedOlderThan(std::int64_t ms, std::int64_t nowMs) {
  std::size_t refused = 0;
  std::lock_guard<std::mutex> lock(_mutex);
  for (auto it = _entries.begin(); it != _entries.end();) {
    if (!it->second.running && CoarseClock::due(it->second.admittedMs + ms, nowMs)) {
      it = answerQueued(it, ErrorReason::ServerBusy);
      ++refused;
    } else {
      ++it;
    }
  }
  return refused;
}

std::size_t ConnectionRegistry::beginDrain() {
  std::size_t answered = 0;
  std::lock_guard<std::mutex> lock(_mutex);
  _draining.store(true, std::memory_order_release);
  for (Parking* worker : _parked) {  // back to POCO, so that its pool can be joined
    worker->leave = true;
    call(*worker);
  }
  _parked.clear();
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
  return Counts{_running, _entries.size() - _running, _open};
}

std::vector<ConnectionRegistry::View> ConnectionRegistry::snapshot(std::size_t limit, std::size_t& total) const {
  std::vector<View> views;
  const std::int64_t now = CoarseClock::nowMs();
  std::lock_guard<std::mutex> lock(_mutex);
  total = _entries.size();
  std::vector<const Slot*> oldest;
  oldest.reserve(_entries.size());
  for (const auto& [key, slot] : _entries) oldest.push_back(&slot);
  const std::size_t shown = std::min(limit, oldest.size());
  std::partial_sort(oldest.begin(), oldest.begin() + static_cast<std::ptrdiff_t>(shown), oldest.end(),
                    [](const Slot* a, const Slot* b) { return a->admittedMs < b->admittedMs; });
  views.reserve(shown);
  for (std::size_t i = 0; i < shown; ++i) {
    const Slot& slot = *oldest[i];
    // Under the lock, so that no socket reference leaves it (see _released).
    std::string peer;
    try {
      peer = peerOf(slot.socket).toString();
    } catch (const Poco::Exception&) {
      peer = "(gone)";
    }
    const char* state = !slot.running                                                   ? "queued"
                        : slot.handshakeDeadlineMs.load(std::memory_order_relaxed) != 0 ? "handshake"
                        : slot.wake.load(std::memory_order_relaxed) != Wake::None       ? "closing"
                                                                                        : "open";
    views.push_back(View{std::move(peer), slot.listener, now - slot.admittedMs,
                         slot.messages.load(std::memory_order_relaxed), slot.bytesIn.load(std::memory_order_relaxed),
                         slot.bytesOut.load(std::memory_order_relaxed), state});
  }
  return views;
}

void ConnectionRegistry::recordEvent(Event event) {
  std::lock_guard<std::mutex> lock(_eventsMutex);
  if (_events.size() == kEventsKept) _events.pop_front();
  _events.push_back(std::move(event));
}

std::vector<ConnectionRegistry::Event> ConnectionRegistry::events() const {
  std::lock_guard<std::mutex> lock(_eventsMutex);
  return {_events.begin(), _events.end()};
}

}  // namespace echod
