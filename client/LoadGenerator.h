#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "client/BenchResult.h"
#include "client/ClientSettings.h"
#include "client/LatencyHistogram.h"
#include "client/ServerConnector.h"

namespace echod {

/// `echo-client --bench`: one thread per connection (the threaded client),
/// each a closed loop of --pipeline messages in flight, every reply checked
/// to the byte against what was sent. Bounded by --duration or --messages.
class LoadGenerator {
 public:
  LoadGenerator(const ClientSettings& settings, const ServerConnector& connector)
      : _settings(settings), _connector(connector) {}

  BenchResult run();

 private:
  struct Worker;
  /// How a ping-pong connection ended early: a BenchResult::Disruption reason, or a wrong reply.
  struct Broken {
    static constexpr int kWrongReply = -1;
    int reason;
    std::string what;
  };
  void pingPong(Worker& worker);
  /// One connection's closed loop until the time is up (then `exit` and FIN): nothing; or how it broke.
  std::optional<Broken> session(Worker& worker, Poco::Net::StreamSocket& socket);
  void connectStorm(Worker& worker);
  void waitForStart();
  bool timeIsUp(std::uint64_t sent) const;

  const ClientSettings& _settings;
  const ServerConnector& _connector;
  std::mutex _mutex;
  std::condition_variable _changed;
  int _ready = 0;
  int _finished = 0;
  std::atomic<std::uint64_t> _connected{0};  ///< ping-pong connections opened
  bool _started = false;
  std::chrono::steady_clock::time_point _start;
  std::chrono::steady_clock::time_point _end;
  std::atomic<std::uint64_t> _progress{0};
};

}  // namespace echod
