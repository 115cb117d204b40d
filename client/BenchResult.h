#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "client/LatencyHistogram.h"

namespace echod {

/// --reconnect: how connections were broken and opened again (a rolling
/// update, a replica stopped behind a load balancer). Not errors.
struct BenchDisruption {
  enum Reason { Fin, Err, Reset, Closed, Timeout, kReasons };
  static constexpr std::array<const char*, kReasons> kReasonNames{"fin", "err", "reset", "closed", "timeout"};
  std::array<std::uint64_t, kReasons> broken{};
  std::uint64_t reconnects = 0;
  std::uint64_t refused = 0;              ///< connects that failed (refused, timed out)
  double longestWithoutConnectionMs = 0;  ///< a connection's longest time from broken to open again
  void merge(const BenchDisruption& other);
};

/// What one load run measured: `echo-client --bench` and bench/'s event-load both print it.
struct BenchResult {
  int connections = 0;             ///< asked for
  std::uint64_t messages = 0;      ///< replies received and verified (connect workload: sessions)
  std::uint64_t errors = 0;        ///< failed connects, wrong replies, timeouts, resets
  double seconds = 0;              ///< from the start signal until the last connection finished
  std::uint64_t payloadBytes = 0;  ///< message bytes echoed back, both directions not counted twice
  LatencyHistogram latency;        ///< per message; connect workload: connect to FIN
  std::string firstError;
  std::uint64_t handshakes = 0;  ///< TLS handshakes completed (connect workload: one per session); 0 without TLS
  bool handshakesTimed = false;  ///< the handshakes happened inside the timed run (the connect workload)

  /// --reconnect: how connections broke and were opened again (BenchDisruption).
  using Disruption = BenchDisruption;
  std::optional<Disruption> disruption;

  /// --udp: datagrams sent, and how many got no reply within the timeout
  /// (lost) or one that came after it (late); `messages` are those answered in time.
  struct Udp {
    std::uint64_t sent = 0;
    std::uint64_t lost = 0;
    std::uint64_t late = 0;
    double lossPercent() const { return sent > 0 ? 100.0 * static_cast<double>(lost) / static_cast<double>(sent) : 0; }
  };
  std::optional<Udp> udp;

  double messagesPerSecond() const { return seconds > 0 ? static_cast<double>(messages) / seconds : 0; }
  double handshakesPerSecond() const {
    return handshakesTimed && seconds > 0 ? static_cast<double>(handshakes) / seconds : 0;
  }
  double megabytesPerSecond() const { return seconds > 0 ? static_cast<double>(payloadBytes) / seconds / 1e6 : 0; }
  /// Three lines for a terminal.
  std::string text() const;
  /// One JSON object on one line, for scripts (bench/run.sh).
  std::string json() const;
};

}  // namespace echod
