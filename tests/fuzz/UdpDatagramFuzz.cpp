// libFuzzer target for the UDP core (protocol/UdpEcho.h): a datagram's
// answer and the per-address rate guard. Properties, not only "no crash":
//   - who is answered exactly for the who command with nothing, "\n" or
//     "\r\n" behind it; an echo is too large exactly when prefix + datagram
//     exceed the largest datagram;
//   - the guard never lets one address have more than its rate of replies in
//     one window, checked against a plain model (a map, no slot table);
//     with a small table (collisions), it refuses a reply only to an address
//     that really had its rate within the last second; with no limit,
//     everything goes through.
// Input: byte 0 picks the rate, byte 1 the who command's length; then the
// rest is both a datagram and a script of (address, milliseconds) steps.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "FuzzSupport.h"
#include "protocol/UdpEcho.h"

namespace {

using echod::UdpAnswer;
using echod::UdpRateGuard;
using echod::fuzz::check;

void checkAnswer(std::string_view datagram, std::string_view who) {
  const UdpAnswer answer = echod::answerDatagram(datagram, echod::fuzz::kPrefix, who);
  const bool isWho =
      !who.empty() && (datagram == who || datagram == std::string(who) + "\n" || datagram == std::string(who) + "\r\n");
  check((answer == UdpAnswer::Who) == isWho, "who answered exactly for the who command");
  if (!isWho) {
    const bool tooLarge = echod::fuzz::kPrefix.size() + datagram.size() > echod::kUdpMaxPayload;
    check((answer == UdpAnswer::TooLarge) == tooLarge, "too large exactly past the largest datagram");
  }
  // A datagram as long as the largest one, its first bytes these: never echoed.
  std::string big(datagram.substr(0, 16));
  big.resize(echod::kUdpMaxPayload, 'x');
  if (big != who) check(echod::answerDatagram(big, echod::fuzz::kPrefix, who) == UdpAnswer::TooLarge, "too large");
}

void checkGuard(const std::uint8_t* data, std::size_t size, std::uint32_t rate) {
  // The default table: these 16 addresses fall in 16 slots, so it is exact.
  UdpRateGuard exact(rate);
  // A table of 8: addresses collide, and a collision may only let more through.
  UdpRateGuard small(rate, 8);
  std::map<std::uint8_t, std::pair<std::int64_t, std::uint32_t>> windows;  // the exact guard's model
  std::map<std::uint8_t, std::deque<std::int64_t>> recent;                 // the small one's replies, last 1 s
  std::int64_t now = 0;
  std::uint64_t allowed = 0;
  for (std::size_t i = 0; i + 1 < size; i += 2) {
    now += data[i + 1] * 8;  // up to about 2 s a step: windows end
    UdpRateGuard::Address address{};
    const std::uint8_t who = data[i] & 0x0F;  // 16 addresses
    address[15] = who;
    if (exact.allow(address, now)) {
      ++allowed;
      auto& [start, count] = windows[who];
      if (count == 0 || now - start >= 1000) {
        start = now;
        count = 0;
      }
      ++count;
      check(rate == 0 || count <= rate, "at most the rate of replies per address in one window");
    }
    auto& mine = recent[who];
    while (!mine.empty() && now - mine.front() >= 1000) mine.pop_front();
    if (small.allow(address, now)) {
      mine.push_back(now);
    } else {
      check(mine.size() >= rate, "a reply refused only to an address that had its rate in the last second");
    }
  }
  if (rate == 0) check(allowed == size / 2, "no limit lets everything through");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint32_t rate = data[0] % 8;  // 0: no limit
  const std::size_t whoLength = data[1] % 8;
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::string_view who = rest.substr(0, std::min(whoLength, rest.size()));
  checkAnswer(rest, who);
  checkAnswer(rest.substr(who.size()), who);
  checkAnswer(std::string(who) + "\n", who);
  checkGuard(data + 2, size - 2, rate);
  return 0;
}
