#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "client/ClientSettings.h"
#include "client/LatencyHistogram.h"

namespace echod {

/// What one --bench run measured.
struct BenchResult {
  int connections = 0;             ///< asked for
  std::uint64_t messages = 0;      ///< replies received and verified (connect workload: sessions)
  std::uint64_t errors = 0;        ///< failed connects, wrong replies, timeouts, resets
  double seconds = 0;              ///< from the start signal until the last connection finished
  std::uint64_t payloadBytes = 0;  ///< message bytes echoed back, both directions not counted twice
  LatencyHistogram latency;        ///< per message; connect workload: connect to FIN
  std::string firstError;

  double messagesPerSecond() const { return seconds > 0 ? static_cast<double>(messages) / seconds : 0; }
  double megabytesPerSecond() const { return seconds > 0 ? static_cast<double>(payloadBytes) / seconds / 1e6 : 0; }
  std::string text() const;
  std::string json() const;
};

/// `echo-client --bench`: one thread per connection (the threaded client),
/// each a closed loop of --pipeline messages in flight, every reply checked
/// to the byte against what was sent. Bounded by --duration or --messages.
class LoadGenerator {
 public:
  explicit LoadGenerator(const ClientSettings& settings) : _settings(settings) {}

  BenchResult run();

 private:
  struct Worker;
  void pingPong(Worker& worker);
  void connectStorm(Worker& worker);
  void waitForStart();
  bool timeIsUp(std::uint64_t sent) const;

  const ClientSettings& _settings;
  std::mutex _mutex;
  std::condition_variable _changed;
  int _ready = 0;
  int _finished = 0;
  bool _started = false;
  std::chrono::steady_clock::time_point _start;
  std::chrono::steady_clock::time_point _end;
  std::atomic<std::uint64_t> _progress{0};
};

}  // namespace echod
