#pragma once

#include <Poco/Event.h>
#include <Poco/Runnable.h>
#include <Poco/Thread.h>

#include <cstdint>

#include "service/connection/ConnectionMetrics.h"
#include "service/connection/ConnectionRegistry.h"
#include "service/connection/LingeringCloses.h"

namespace echod {

/// One thread that keeps time for every connection, so no read arms a timer.
/// Every kTickMs it: closes the lingering sockets that are done
/// (LingeringCloses::sweep); sweeps the registry for the idle timeout, the
/// idle timeout under load, the queue deadline and the TLS handshake and
/// PROXY header deadline. It counts what it did in the metrics.
class Housekeeper : public Poco::Runnable {
 public:
  /// The clock's resolution: a deadline fires at most two ticks late, never early.
  static constexpr long kTickMs = 50;

  Housekeeper(ConnectionRegistry& registry, LingeringCloses& lingering, ConnectionMetrics& metrics,
              const ConnectionRegistry::SweepRules& rules);
  ~Housekeeper() override;

  Housekeeper(const Housekeeper&) = delete;
  Housekeeper& operator=(const Housekeeper&) = delete;

  void start();
  void stop();
  void run() override;

 private:
  void tick();

  ConnectionRegistry& _registry;
  LingeringCloses& _lingering;
  ConnectionMetrics& _metrics;
  const ConnectionRegistry::SweepRules _rules;
  Poco::Thread _thread{"housekeeper"};
  Poco::Event _stop;
  bool _started = false;  ///< start() and stop() are called by the owner's thread only
};

}  // namespace echod
