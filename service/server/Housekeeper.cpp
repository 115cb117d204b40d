#include "service/server/Housekeeper.h"

#include <Poco/Logger.h>

#include <pthread.h>

#include <cstring>

namespace echod {
namespace {

/// Whether the system would start one more worker thread now: POCO's
/// dispatcher swallows the failure and leaves the connection queued, so a
/// queued connection with room in the pool is confirmed stranded by trying.
bool canStartThread(int stackSize) {
  pthread_attr_t attr;
  if (::pthread_attr_init(&attr) != 0) return false;
  ::pthread_attr_setstacksize(&attr, static_cast<std::size_t>(stackSize));
  pthread_t thread;
  const int rc = ::pthread_create(
      &thread, &attr, [](void*) -> void* { return nullptr; }, nullptr);
  ::pthread_attr_destroy(&attr);
  if (rc != 0) return false;
  ::pthread_join(thread, nullptr);
  return true;
}

}  // namespace

Housekeeper::Housekeeper(ConnectionRegistry& registry, LingeringCloses& lingering, ServerMetrics& metrics,
                         const ConnectionRegistry::SweepRules& rules, int threadStackSize)
    : _registry(registry),
      _lingering(lingering),
      _metrics(metrics),
      _rules(rules),
      _threadStackSize(threadStackSize),
      _stop(Poco::Event::EVENT_MANUALRESET) {}

Housekeeper::~Housekeeper() { stop(); }

void Housekeeper::start() {
  _thread.start(*this);
  _started = true;
}

void Housekeeper::stop() {
  _stop.set();
  // Joined even when it no longer "runs": POCO's thread still signals its
  // done-event after that, and must not outlive this object.
  if (_started) _thread.join();
  _started = false;
}

void Housekeeper::run() {
  while (!_stop.tryWait(kTickMs)) tick();
}

void Housekeeper::tick() {
  const std::int64_t now = CoarseClock::nowMs();
  _lingering.sweep(now);
  const auto swept = _registry.sweep(_rules, now);
  _metrics.count(_metrics.idleWoken, swept.idleClosed);
  _metrics.count(_metrics.evictedUnderLoad, swept.evictedUnderLoad);
  _metrics.count(_metrics.queueTimeouts, swept.queueTimeouts);
  if (swept.stranded > 0 && !canStartThread(_threadStackSize)) {
    const std::size_t refused = _registry.refuseQueuedOlderThan(_rules.strandedMs, now);
    _metrics.count(_metrics.threadStartFailures, refused);
    _metrics.count(_metrics.refused[ServerMetrics::slot(ErrorReason::ServerBusy)], refused);
    if (const std::size_t lately = _threadRefusals.count(refused); lately > 0) {
      Poco::Logger::get("echod.server")
          .warning("the system refused a new worker thread: %z queued connection(s) got ERR server busy", lately);
    }
  }
  if (swept.queueTimeouts > 0) {
    _metrics.count(_metrics.refused[ServerMetrics::slot(ErrorReason::ServerBusy)], swept.queueTimeouts);
  }
}

}  // namespace echod
