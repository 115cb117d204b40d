#include "protocol/Alpn.h"

#include <algorithm>

namespace echod {

std::optional<std::vector<std::string>> parseAlpnList(std::string_view text, std::string& error) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view name = text.substr(start, comma - start);
    if (name.empty()) {
      error = "an empty protocol name";
      return std::nullopt;
    }
    if (name.size() > 255) {
      error = "a protocol name longer than 255 bytes";
      return std::nullopt;
    }
    if (!std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7f; })) {
      error = "a protocol name with a space or a byte outside printable ASCII";
      return std::nullopt;
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      error = "'" + std::string(name) + "' twice";
      return std::nullopt;
    }
    if (names.size() == kMaxAlpnNames) {
      error = "more than " + std::to_string(kMaxAlpnNames) + " protocol names";
      return std::nullopt;
    }
    names.emplace_back(name);
    start = comma + 1;
  }
  return names;
}

std::string encodeAlpn(const std::vector<std::string>& names) {
  std::string wire;
  for (const auto& name : names) {
    wire += static_cast<char>(static_cast<unsigned char>(name.size()));
    wire += name;
  }
  return wire;
}

AlpnChoice chooseAlpn(const std::vector<std::string>& server, std::string_view offered) {
  // Split (and check) the offer first: a malformed one is refused whatever it holds.
  std::vector<std::string_view> offer;
  for (std::size_t at = 0; at < offered.size();) {
    const auto length = static_cast<unsigned char>(offered[at]);
    if (length == 0 || offered.size() - at - 1 < length) return {AlpnChoice::Result::Malformed, {}};
    offer.push_back(offered.substr(at + 1, length));
    at += 1 + length;
  }
  if (offer.empty()) return {AlpnChoice::Result::Malformed, {}};
  for (const auto& name : server) {
    if (std::find(offer.begin(), offer.end(), name) != offer.end()) return {AlpnChoice::Result::Chosen, name};
  }
  return {AlpnChoice::Result::NoOverlap, {}};
}

}  // namespace echod
