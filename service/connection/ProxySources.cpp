#include "service/connection/ProxySources.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace echod {
namespace {

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

/// Whether the first `prefix` bits of `a` and `b` are equal.
bool samePrefix(const std::uint8_t* a, const std::uint8_t* b, unsigned prefix) {
  const unsigned whole = prefix / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

ProxySources ProxySources::parse(const std::string& text) {
  ProxySources sources;
  if (trimmed(text) == "any") return sources;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string entry =
        trimmed(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    const std::size_t slash = entry.find('/');
    const std::string address = entry.substr(0, slash);
    Range range;
    if (inet_pton(AF_INET, address.c_str(), range.bytes.data()) == 1) {
      range.prefix = 32;
    } else if (inet_pton(AF_INET6, address.c_str(), range.bytes.data()) == 1) {
      range.v6 = true;
      range.prefix = 128;
    } else {
      throw std::invalid_argument("'" + entry + "' is not an address or a CIDR range");
    }
    if (slash != std::string::npos) {
      const std::string bits = entry.substr(slash + 1);
      const unsigned max = range.prefix;
      if (bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), ::isdigit) ||
          static_cast<unsigned>(std::stoi(bits)) > max) {
        throw std::invalid_argument("'" + entry + "' has no prefix length of 0-" + std::to_string(max));
      }
      range.prefix = static_cast<unsigned>(std::stoi(bits));
    }
    sources._ranges.push_back(range);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return sources;
}

bool ProxySources::allows(const Poco::Net::IPAddress& peer) const {
  if (_ranges.empty()) return true;
  const auto* raw = static_cast<const std::uint8_t*>(peer.addr());
  bool v6 = peer.family() == Poco::Net::IPAddress::IPv6;
  if (v6 && peer.isIPv4Mapped()) {
    raw += 12;
    v6 = false;
  }
  return std::any_of(_ranges.begin(), _ranges.end(), [&](const Range& range) {
    return range.v6 == v6 && samePrefix(raw, range.bytes.data(), range.prefix);
  });
}

}  // namespace echod
