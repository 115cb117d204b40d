#pragma once

#include <Poco/Event.h>
#include <Poco/Runnable.h>
#include <Poco/Thread.h>

#include <cstdint>

#include "service/ConnectionRegistry.h"
#include "service/ServerMetrics.h"

namespace echod {

/// One thread that keeps time for every connection, so no read arms a timer:
/// it ticks a coarse clock, and each tick sweeps the registry for the idle
/// timeout, the adaptive idle timeout under load and the queue deadline, and
/// answers queued connections for which the system refused a thread.
class Housekeeper : public Poco::Runnable {
 public:
  /// The clock's resolution: a deadline fires at most two ticks late, never early.
  static constexpr long kTickMs = 50;

  Housekeeper(ConnectionRegistry& registry, ServerMetrics& metrics, const ConnectionRegistry::SweepRules& rules,
              int threadStackSize);
  ~Housekeeper() override;

  Housekeeper(const Housekeeper&) = delete;
  Housekeeper& operator=(const Housekeeper&) = delete;

  void start();
  void stop();
  void run() override;

 private:
  void tick();

  ConnectionRegistry& _registry;
  ServerMetrics& _metrics;
  const ConnectionRegistry::SweepRules _rules;
  const int _threadStackSize;
  Poco::Thread _thread{"housekeeper"};
  Poco::Event _stop;
  bool _started = false;                        ///< start() and stop() are called by the owner's thread only
  std::size_t _refusedByThreadLimit = 0;        ///< since the last warning (housekeeper thread only)
  std::int64_t _lastThreadWarningMs = -100000;  ///< when it was logged
};

}  // namespace echod
