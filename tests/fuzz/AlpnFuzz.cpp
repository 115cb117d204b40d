// libFuzzer target for ALPN's pure part (protocol/Alpn.h): echo.tlsAlpn's
// list and the server's choice from a client's offer. Properties, not only
// "no crash":
//   - a list that parses has 1 to 16 names of 1 to 255 printable bytes, each
//     once, and its text joined again parses to the same list;
//   - a choice is one of the server's names and one the client offered,
//     and no earlier server name was offered; an offer whose wire form
//     does not split into non-empty names is Malformed.
// Input: byte 0 picks the parser; for a choice, byte 1 splits the rest into
// the server's list text and the client's offer in wire form.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "protocol/Alpn.h"

namespace {

using echod::fuzz::check;

void list(std::string_view text) {
  std::string error;
  const auto parsed = echod::parseAlpnList(text, error);
  if (!parsed) {
    check(!error.empty(), "a refusal says why");
    return;
  }
  check(!parsed->empty() && parsed->size() <= echod::kMaxAlpnNames, "1 to 16 names");
  std::string joined;
  for (const auto& name : *parsed) {
    check(!name.empty() && name.size() <= 255, "a name is 1 to 255 bytes");
    check(std::count(parsed->begin(), parsed->end(), name) == 1, "each name once");
    joined += (joined.empty() ? "" : ",") + name;
  }
  std::string again;
  check(echod::parseAlpnList(joined, again) == parsed, "the list joined again parses to itself");
}

std::vector<std::string> split(std::string_view wire, bool& wellFormed) {
  std::vector<std::string> names;
  wellFormed = !wire.empty();
  for (std::size_t at = 0; at < wire.size();) {
    const auto length = static_cast<unsigned char>(wire[at]);
    if (length == 0 || wire.size() - at - 1 < length) {
      wellFormed = false;
      return names;
    }
    names.emplace_back(wire.substr(at + 1, length));
    at += 1 + length;
  }
  return names;
}

void choice(std::string_view bytes) {
  if (bytes.empty()) return;
  const std::size_t cut = std::min<std::size_t>(static_cast<unsigned char>(bytes[0]), bytes.size() - 1);
  std::string error;
  const auto server = echod::parseAlpnList(bytes.substr(1, cut), error);
  if (!server) return;
  const std::string_view offered = bytes.substr(1 + cut);
  const auto chosen = echod::chooseAlpn(*server, offered);
  bool wellFormed = false;
  const auto offer = split(offered, wellFormed);
  if (!wellFormed) {
    check(chosen.result == echod::AlpnChoice::Result::Malformed, "a malformed offer is refused as such");
    return;
  }
  const auto offeredName = [&](const std::string& name) {
    return std::find(offer.begin(), offer.end(), name) != offer.end();
  };
  if (chosen.result == echod::AlpnChoice::Result::Chosen) {
    const auto at = std::find(server->begin(), server->end(), chosen.protocol);
    check(at != server->end() && offeredName(chosen.protocol), "the choice is the server's and offered");
    check(std::none_of(server->begin(), at, offeredName), "no earlier server name was offered");
  } else {
    check(chosen.result == echod::AlpnChoice::Result::NoOverlap, "a well-formed offer is never Malformed");
    check(std::none_of(server->begin(), server->end(), offeredName), "no overlap means none in common");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    list(rest);
  } else {
    choice(rest);
  }
  return 0;
}
