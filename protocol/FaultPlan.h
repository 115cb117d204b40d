#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace echod {

/// What replaces a reply (docs/protocol.md "Faults on demand").
enum class FaultKind : std::uint8_t {
  None,   ///< the reply is sent
  Reset,  ///< the connection is aborted with an RST
  Close,  ///< the connection is closed with no word (an orderly FIN)
  Hang    ///< nothing is ever sent again; input is read until the idle timeout
};
/// The fault's name in settings, logs, metrics and who: none, reset, close, hang.
const char* faultName(FaultKind kind) noexcept;

/// The faults asked for (echo.replyDelay, echo.replyChunk,
/// echo.replyChunkInterval, echo.fault, echo.faultAfter, echo.faultShare).
/// Off by default; any() says whether a connection can be drawn at all.
struct FaultOptions {
  std::int64_t delayMinMs = 0;  ///< both 0: no delay
  std::int64_t delayMaxMs = 0;
  std::int64_t chunkIntervalMs = 100;
  std::size_t chunk = 0;  ///< bytes per write of a reply; 0: whole replies
  std::uint64_t faultAfter = 0;
  FaultKind fault = FaultKind::None;
  int sharePercent = 100;

  bool any() const noexcept { return delayMaxMs > 0 || chunk > 0 || fault != FaultKind::None; }
  /// One line for the start-up log: "reply delay 100-300 ms, replies in
  /// 4-byte chunks every 100 ms, reset after 3 replies, on 50 % of connections".
  std::string describe() const;
};

/// "MS" or "MIN-MAX" (milliseconds, MIN <= MAX <= max); nullopt otherwise.
std::optional<std::pair<std::int64_t, std::int64_t>> parseDelayRange(std::string_view text, std::int64_t max);

/// One connection's faults, with no clock and no socket: whether it was
/// drawn, each reply's delay (uniform over the range, from its own seeded
/// generator), and which message gets the fault. The transport waits and writes.
class FaultPlan {
 public:
  /// `seed` is the connection's random draw: it decides the share and seeds the delays.
  FaultPlan(const FaultOptions& options, std::uint64_t seed);

  /// Drawn for the faults (echo.faultShare), and something to do.
  bool drawn() const noexcept { return _drawn; }
  /// The next reply's delay in milliseconds (0 without a delay).
  std::int64_t nextDelayMs() noexcept;
  /// What the message that follows `answered` replies gets instead of its reply.
  FaultKind faultAfter(std::uint64_t answered) const noexcept {
    return answered == _options.faultAfter ? _options.fault : FaultKind::None;
  }
  const FaultOptions& options() const noexcept { return _options; }

 private:
  std::uint64_t next() noexcept;  ///< splitmix64

  const FaultOptions& _options;
  std::uint64_t _state;
  bool _drawn;
};

}  // namespace echod
