#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/EchoSession.h"
#include "protocol/FaultPlan.h"
#include "service/connection/ConnectionSlot.h"
#include "service/core/Counter.h"

namespace echod {

class ConnectionRegistry;

/// Faults on demand, for /metrics (echod_faults_total): replies delayed,
/// replies written in chunks, and connections reset, closed or hung in
/// place of a reply.
struct FaultCounters {
  enum class Fault : std::uint8_t { Delay, Chunk, Reset, Close, Hang };
  static constexpr std::size_t kFaults = static_cast<std::size_t>(Fault::Hang) + 1;
  static constexpr std::array<const char*, kFaults> kFaultNames{"delay", "chunk", "reset", "close", "hang"};
  std::array<Counter, kFaults> faults{};
  void countFault(Fault fault) { count(faults[static_cast<std::size_t>(fault)]); }
};

/// The faults on demand of one connection drawn for them (docs/protocol.md
/// "Faults on demand"). EchoConnection's one read loop hands each read to
/// answer() instead of answering it itself: a connection not drawn pays
/// one branch per read. The plan (which message gets the fault, each
/// reply's delay) is protocol/FaultPlan; this holds the replies and writes
/// them. The fault itself is applied by EchoConnection::end(), the one way
/// out, from what answer() returns.
class ConnectionFaults {
 public:
  using Clock = std::chrono::steady_clock;
  /// Writes one reply, or one chunk of it, uncorked; false when the peer stopped reading.
  using Write = std::function<bool(std::string_view)>;

  /// This connection drawn for the faults (echo.faultShare), from the
  /// worker's own generator; nullopt when it was not.
  static std::optional<ConnectionFaults> draw(const FaultOptions& options, ConnectionSlot& slot,
                                              const ConnectionRegistry& registry, FaultCounters& counters);

  /// How answering one read ended.
  struct Answered {
    FaultKind fault = FaultKind::None;  ///< the fault in place of the next reply: the connection ends with it
    bool interrupted = false;           ///< a held reply was cut short (drain deadline, idle timeout, a stalled write)
  };

  /// The replies to `received` (arrived at `arrived`), one message at a time:
  /// each held until its delay is over (the console shows the thread
  /// delaying) and written through `write` whole or in chunks; or, at the
  /// message that gets it, the fault instead of its reply.
  Answered answer(std::string_view received, Clock::time_point arrived, EchoSession& session, std::string& output,
                  const Write& write);

  /// Counts the fault that ends the connection (echod_faults_total).
  void count(FaultKind fault);

 private:
  ConnectionFaults(const FaultOptions& options, std::uint64_t seed, ConnectionSlot& slot,
                   const ConnectionRegistry& registry, FaultCounters& counters)
      : _plan(options, seed), _slot(slot), _registry(registry), _counters(counters) {}
  /// Waits on this thread until `deadline`. False when the connection must
  /// end first: aborted, or woken by the housekeeper.
  bool holdUntil(Clock::time_point deadline);
  bool writeReply(std::string_view reply, const Write& write);

  FaultPlan _plan;
  ConnectionSlot& _slot;
  const ConnectionRegistry& _registry;
  FaultCounters& _counters;
  std::uint64_t _answered = 0;  ///< replies sent, to find the message that gets the fault
};

}  // namespace echod
