#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "protocol/Replies.h"
#include "service/connection/ConnectionSlot.h"
#include "service/connection/PerCpuCounters.h"

namespace echod {

/// The server's counters, for /metrics. Relaxed atomics: no lock on the line
/// path. What every read adds to (messages, bytes in and out) is kept a
/// cache line per CPU (PerCpuCounters); the rest is added to once per
/// connection, per refusal or per event (a fault counts per reply it hits).
struct ServerMetrics {
  using Counter = std::atomic<std::uint64_t>;
  /// One slot per ErrorReason: the last enumerator plus one.
  static constexpr std::size_t kReasons = static_cast<std::size_t>(kLastErrorReason) + 1;

  /// Messages, bytes received and bytes sent, by CPU: add() per read.
  PerCpuCounters traffic;
  /// One of traffic's totals, read as a counter is: load() sums the CPUs' lines.
  struct Total {
    const PerCpuCounters& counters;
    const PerCpuCounters::Field field;
    std::uint64_t load() const noexcept { return counters.sum(field); }
  };
  const Total messages{traffic, PerCpuCounters::Messages};  ///< lines (raw: chunks) answered with an echo
  const Total bytesReceived{traffic, PerCpuCounters::BytesReceived};
  const Total bytesSent{traffic, PerCpuCounters::BytesSent};

  Counter connectionsOpened{0};
  std::array<Counter, kReasons> refused{};  ///< never served: busy (incl. queue deadline), too many, shutting down
  std::array<Counter, kReasons> errors{};   ///< ERR lines sent on open connections
  Counter idleWoken{0};                     ///< connections the housekeeper woke for the idle timeout
  Counter evictedUnderLoad{0};              ///< idle connections closed to make room for waiting ones
  Counter queueTimeouts{0};                 ///< queued connections answered `ERR server busy` at the deadline
  Counter threadStartFailures{0};           ///< queued connections refused because no thread could start

  /// Connections served, by listener (ConnectionSlot::Listener).
  std::array<Counter, ConnectionSlot::kListeners> connectionsByListener{};
  /// How TLS handshakes ended.
  enum class Handshake : std::uint8_t { Ok, Timeout, NotTls, Closed, Failed };
  static constexpr std::size_t kHandshakeResults = static_cast<std::size_t>(Handshake::Failed) + 1;
  static constexpr std::array<const char*, kHandshakeResults> kHandshakeNames{"ok", "timeout", "not_tls", "closed",
                                                                              "failed"};
  std::array<Counter, kHandshakeResults> tlsHandshakes{};

  /// PROXY headers (the PROXY listener), by version and result.
  enum class ProxyVersion : std::uint8_t { V1, V2, None };  ///< None: not a header of either version
  static constexpr std::size_t kProxyVersions = static_cast<std::size_t>(ProxyVersion::None) + 1;
  static constexpr std::array<const char*, kProxyVersions> kProxyVersionNames{"1", "2", "none"};
  enum class ProxyResult : std::uint8_t {
    Proxied,     ///< a client's addresses: PROXY (v2), TCP4 or TCP6 (v1)
    Local,       ///< LOCAL (v2) or UNKNOWN (v1): the proxy's own connection, a health check
    Bad,         ///< malformed, a wrong CRC, or not a header
    Timeout,     ///< incomplete at echo.proxyHeaderTimeout
    Closed,      ///< the peer closed before a complete header
    NotAllowed,  ///< a peer outside echo.proxyFrom, refused at admission
  };
  static constexpr std::size_t kProxyResults = static_cast<std::size_t>(ProxyResult::NotAllowed) + 1;
  static constexpr std::array<const char*, kProxyResults> kProxyResultNames{"proxied", "local",  "bad",
                                                                            "timeout", "closed", "not_allowed"};
  std::array<std::array<Counter, kProxyResults>, kProxyVersions> proxyHeaders{};
  void countProxyHeader(ProxyVersion version, ProxyResult result) {
    count(proxyHeaders[static_cast<std::size_t>(version)][static_cast<std::size_t>(result)]);
  }

  /// Faults on demand, by kind: replies delayed, replies written in chunks,
  /// and connections reset, closed or hung in place of a reply.
  enum class Fault : std::uint8_t { Delay, Chunk, Reset, Close, Hang };
  static constexpr std::size_t kFaults = static_cast<std::size_t>(Fault::Hang) + 1;
  static constexpr std::array<const char*, kFaults> kFaultNames{"delay", "chunk", "reset", "close", "hang"};
  std::array<Counter, kFaults> faults{};
  void countFault(Fault fault) { count(faults[static_cast<std::size_t>(fault)]); }

  /// UDP echo: datagrams answered (echo or who), and dropped by reason.
  Counter udpEchoed{0};
  Counter udpWho{0};
  enum class UdpDrop : std::uint8_t { LowPort, Rate, TooLarge, SendFailed };
  static constexpr std::size_t kUdpDrops = static_cast<std::size_t>(UdpDrop::SendFailed) + 1;
  static constexpr std::array<const char*, kUdpDrops> kUdpDropNames{"low_port", "rate", "too_large", "send_failed"};
  std::array<Counter, kUdpDrops> udpDropped{};

  static std::size_t slot(ErrorReason reason) { return static_cast<std::size_t>(reason); }
  void count(Counter& counter, std::uint64_t n = 1) { counter.fetch_add(n, std::memory_order_relaxed); }
};

}  // namespace echod
