#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace echod {

// ALPN (RFC 7301) as the TLS listener and the client use it (docs/protocol.md,
// "ALPN"), with no I/O: the list a setting names,
// its wire form, and the server's choice from what a client offered.

/// At most this many protocol names in one list.
inline constexpr std::size_t kMaxAlpnNames = 16;

/// `name,name,...` in order of preference: each 1 to 255 bytes of printable
/// ASCII without a comma, each once, at most kMaxAlpnNames. Nullopt, with
/// `error` set, otherwise ("" is an error too: no list at all is "off").
std::optional<std::vector<std::string>> parseAlpnList(std::string_view text, std::string& error);

/// The wire form of a list: each name preceded by its length in one byte.
std::string encodeAlpn(const std::vector<std::string>& names);

/// What a server makes of a client's offer.
struct AlpnChoice {
  enum class Result {
    Chosen,     ///< `protocol` is the first of the server's names that the client offered
    NoOverlap,  ///< the client offered names, none of them the server's: the handshake fails (no_application_protocol)
    Malformed,  ///< the offer is not a well-formed list (empty, a zero length, a length past the end)
  };
  Result result = Result::NoOverlap;
  std::string protocol;
};

/// The server's choice, in the server's order of preference, from the
/// client's offer in wire form (the extension's protocol_name_list).
AlpnChoice chooseAlpn(const std::vector<std::string>& server, std::string_view offered);

}  // namespace echod
