#pragma once

#include <Poco/Event.h>
#include <Poco/Runnable.h>
#include <Poco/Thread.h>

#include <cstdint>
#include <functional>

#include "service/connection/ConnectionMetrics.h"
#include "service/connection/ConnectionRegistry.h"
#include "service/connection/LingeringCloses.h"

namespace echod {

/// One thread that keeps time for every connection, so no read arms a timer.
/// Every kTickMs it: closes the lingering sockets that are done
/// (LingeringCloses::sweep); sweeps the registry for the idle timeout, the
/// idle timeout under load, the queue deadline and the TLS handshake and
/// PROXY header deadline; and runs the task it was given (the TLS
/// certificate files' check) at its interval. It counts what it did in the metrics.
class Housekeeper : public Poco::Runnable {
 public:
  /// The clock's resolution: a deadline fires at most two ticks late, never early.
  static constexpr long kTickMs = 50;

  Housekeeper(ConnectionRegistry& registry, LingeringCloses& lingering, ConnectionMetrics& metrics,
              const ConnectionRegistry::SweepRules& rules);
  ~Housekeeper() override;

  Housekeeper(const Housekeeper&) = delete;
  Housekeeper& operator=(const Housekeeper&) = delete;

  /// Also runs `task` on this thread every `everyMs` (the first time at the
  /// first tick). Set before start().
  void every(std::int64_t everyMs, std::function<void()> task);

  void start();
  void stop();
  void run() override;

 private:
  void tick();

  ConnectionRegistry& _registry;
  LingeringCloses& _lingering;
  ConnectionMetrics& _metrics;
  const ConnectionRegistry::SweepRules _rules;
  std::function<void()> _task;
  std::int64_t _taskEveryMs = 0;
  std::int64_t _taskNextMs = 0;
  Poco::Thread _thread{"housekeeper"};
  Poco::Event _stop;
  bool _started = false;  ///< start() and stop() are called by the owner's thread only
};

}  // namespace echod
