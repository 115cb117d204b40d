#include "service/server/Housekeeper.h"

#include <utility>

namespace echod {

Housekeeper::Housekeeper(ConnectionRegistry& registry, LingeringCloses& lingering, ConnectionMetrics& metrics,
                         const ConnectionRegistry::SweepRules& rules)
    : _registry(registry),
      _lingering(lingering),
      _metrics(metrics),
      _rules(rules),
      _stop(Poco::Event::EVENT_MANUALRESET) {}

Housekeeper::~Housekeeper() { stop(); }

void Housekeeper::every(std::int64_t everyMs, std::function<void()> task) {
  _taskEveryMs = everyMs;
  _task = std::move(task);
}

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
  if (swept.queueTimeouts > 0) {
    _metrics.count(_metrics.refused[ConnectionMetrics::slot(ErrorReason::ServerBusy)], swept.queueTimeouts);
  }
  if (_task && now >= _taskNextMs) {
    _taskNextMs = now + _taskEveryMs;
    _task();
  }
}

}  // namespace echod
