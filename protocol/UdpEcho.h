#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace echod {

// UDP echo (docs/protocol.md, "UDP"), with no I/O: what one datagram gets,
// and the per-address rate guard. Time comes in as an argument.

/// The largest UDP payload over IPv4 (65,535 - 8 - 20): an echo longer than
/// this cannot be sent, so its datagram is dropped.
inline constexpr std::size_t kUdpMaxPayload = 65507;

/// What a datagram gets.
enum class UdpAnswer : std::uint8_t {
  Echo,     ///< the prefix, then the datagram
  Who,      ///< the who JSON (the datagram is the who command, with an optional `\n` or `\r\n`)
  TooLarge  ///< prefix and datagram would not fit in one datagram: dropped
};
UdpAnswer answerDatagram(std::string_view datagram, std::string_view prefix, std::string_view whoCommand);

/// Datagrams from ports below this are dropped: no echo loops with the
/// other small services (echo 7, chargen 19, daytime 13, ...).
inline constexpr std::uint16_t kUdpLowestSourcePort = 1024;

/// At most `perSecond` replies a second to one source address (whatever its
/// port), in fixed one-second windows, with bounded memory: a table of
/// `slots` addresses, direct-mapped by hash. Two addresses that share a slot
/// take it in turns, and each takeover starts a fresh count, so a collision
/// can only let more through, never block a client wrongly. Not thread-safe.
class UdpRateGuard {
 public:
  using Address = std::array<std::uint8_t, 16>;  ///< IPv4 as IPv4-mapped IPv6
  /// `perSecond` 0: no limit (and no memory).
  explicit UdpRateGuard(std::uint32_t perSecond, std::size_t slots = 4096);
  /// Whether one more reply may go to `source` at `nowMs`; counts it if so.
  bool allow(const Address& source, std::int64_t nowMs);

 private:
  struct Slot {
    Address address{};
    std::int64_t windowStartMs = -1;  ///< -1: free
    std::uint32_t replies = 0;
  };
  std::uint32_t _perSecond;
  std::vector<Slot> _slots;
};

}  // namespace echod
