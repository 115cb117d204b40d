#include "service/connection/WorkerHandOff.h"

#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace echod {
namespace {

/// Blocks while `word` is 0, at most `timeout` (a futex wait: returns at once
/// if the word is no longer 0, and may return early: callers look again).
void awaitCall(std::atomic<std::uint32_t>& word, std::chrono::nanoseconds timeout) {
  const auto ns = timeout.count();
  timespec relative{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, 0U, &relative, nullptr, 0U);
}

}  // namespace

WorkerHandOff::Parking* WorkerHandOff::takeParked() {
  if (_parked.empty()) return nullptr;
  Parking* worker = _parked.back();
  _parked.pop_back();
  return worker;
}

void WorkerHandOff::give(Parking& worker, ConnectionSlot& slot) {
  worker.slot = &slot;
  worker.socket.emplace(slot.socket);
}

void WorkerHandOff::call(Parking& worker) {
  worker.called.store(1, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&worker.called), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0U);
}

const void* WorkerHandOff::popQueued() {
  if (_queueOrder.empty()) return nullptr;
  const void* key = _queueOrder.front();
  _queueOrder.pop_front();
  return key;
}

const void* WorkerHandOff::popNewestQueued() {
  if (_queueOrder.empty()) return nullptr;
  const void* key = _queueOrder.back();
  _queueOrder.pop_back();
  return key;
}

ConnectionSlot* WorkerHandOff::park(std::unique_lock<std::mutex>& lock, Poco::Net::StreamSocket& next,
                                    std::int64_t timeoutMs) {
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
  ConnectionSlot* const slot = me->slot;
  if (slot != nullptr) next = *me->socket;
  me->socket.reset();  // under the lock, like every socket reference the registry drops
  _freeParkings.push_back(me);
  return slot;
}

void WorkerHandOff::sendAllHome() {
  for (Parking* worker : _parked) {
    worker->leave = true;
    call(*worker);
  }
  _parked.clear();
}

int sizeFutexHash(int threads) {
#ifndef PR_FUTEX_HASH
  constexpr int PR_FUTEX_HASH = 78;  // linux/prctl.h, from 6.16
  constexpr int PR_FUTEX_HASH_SET_SLOTS = 1;
#endif
  int slots = 16;
  while (slots < threads && slots < 16384) slots *= 2;
  if (::prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, slots, 0, 0) != 0) return 0;
  return slots;
}

}  // namespace echod
