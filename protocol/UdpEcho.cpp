#include "protocol/UdpEcho.h"

namespace echod {

UdpAnswer answerDatagram(std::string_view datagram, std::string_view prefix, std::string_view whoCommand) {
  if (!whoCommand.empty() && datagram.substr(0, whoCommand.size()) == whoCommand) {
    const std::string_view rest = datagram.substr(whoCommand.size());
    if (rest.empty() || rest == "\n" || rest == "\r\n") return UdpAnswer::Who;
  }
  return prefix.size() + datagram.size() > kUdpMaxPayload ? UdpAnswer::TooLarge : UdpAnswer::Echo;
}

UdpRateGuard::UdpRateGuard(std::uint32_t perSecond, std::size_t slots)
    : _perSecond(perSecond), _slots(perSecond == 0 ? 0 : slots) {}

bool UdpRateGuard::allow(const Address& source, std::int64_t nowMs) {
  if (_perSecond == 0) return true;
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a
  for (const std::uint8_t byte : source) hash = (hash ^ byte) * 0x100000001b3ULL;
  Slot& slot = _slots[hash % _slots.size()];
  if (slot.address != source || slot.windowStartMs < 0 || nowMs - slot.windowStartMs >= 1000) {
    slot.address = source;
    slot.windowStartMs = nowMs;
    slot.replies = 0;
  }
  if (slot.replies >= _perSecond) return false;
  ++slot.replies;
  return true;
}

}  // namespace echod
