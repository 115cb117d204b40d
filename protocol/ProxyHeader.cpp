#include "protocol/ProxyHeader.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace echod {

namespace {

using Status = ProxyParse::Status;

constexpr std::string_view kV1Start = "PROXY ";
constexpr std::size_t kV2Fixed = 16;  // signature, version and command, family, length
constexpr std::size_t kUniqueIdMax = 128;
constexpr std::size_t kUnixPathBytes = 108;

enum TlvType : std::uint8_t {
  kAlpn = 0x01,
  kAuthority = 0x02,
  kCrc32c = 0x03,
  kNoop = 0x04,
  kUniqueId = 0x05,
  kSsl = 0x20,
  kSslVersion = 0x21,
  kSslCn = 0x22,
  kSslCipher = 0x23,
  kSslSigAlg = 0x24,
  kSslKeyAlg = 0x25,
  kNetns = 0x30,
  kAws = 0xEA,
};
constexpr std::uint8_t kAwsVpceId = 0x01;

ProxyParse bad(const char* why) {
  ProxyParse p;
  p.status = Status::Bad;
  p.error = why;
  return p;
}

ProxyParse done(ProxyHeader header, std::size_t length) {
  ProxyParse p;
  p.status = Status::Done;
  p.length = length;
  p.header = std::move(header);
  return p;
}

/// Whether the first bytes of `received` agree with `expected` (as far as both go).
bool startsLike(std::string_view received, std::string_view expected) {
  const std::size_t n = std::min(received.size(), expected.size());
  return received.substr(0, n) == expected.substr(0, n);
}

std::uint16_t be16(std::string_view bytes, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(bytes[at]) << 8) |
                                    static_cast<std::uint8_t>(bytes[at + 1]));
}

// ---- version 1 ----

/// A port as v1 writes it: decimal, 0..65535, no leading zero.
std::optional<std::uint16_t> v1Port(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

/// An address as v1 writes it for `family` (TCP4: a dotted quad with no leading
/// zeros; TCP6: hex groups with one "::" at most, or a trailing dotted quad as
/// inet_ntop writes IPv4-mapped addresses, which is what HAProxy sends).
std::optional<ProxyAddress> v1Address(std::string_view text, ProxyAddress::Family family, std::uint16_t port) {
  auto address = ProxyAddress::fromText(text, port);
  if (!address || address->family != family) return std::nullopt;
  return address;
}

ProxyParse parseV1(std::string_view received) {
  if (!startsLike(received, kV1Start)) return bad("not a PROXY header");
  const std::string_view window = received.substr(0, kProxyV1Max);
  const std::size_t end = window.find_first_of("\r\n");
  if (end == std::string_view::npos) {
    return window.size() >= kProxyV1Max ? bad("v1: no CRLF within 107 bytes") : ProxyParse{};
  }
  if (window[end] == '\n') return bad("v1: the line ends in LF without CR");
  if (end + 1 >= window.size()) {
    return end + 2 > kProxyV1Max ? bad("v1: no CRLF within 107 bytes") : ProxyParse{};
  }
  if (window[end + 1] != '\n') return bad("v1: CR not followed by LF");

  // The line is at most 107 bytes, so splitting it on every space is bounded.
  std::string_view line = received.substr(kV1Start.size(), end - kV1Start.size());
  std::vector<std::string_view> fields;
  for (std::size_t space = 0; space != std::string_view::npos;) {
    space = line.find(' ');
    fields.push_back(line.substr(0, space));
    if (space != std::string_view::npos) line.remove_prefix(space + 1);
  }
  ProxyHeader header;
  header.version = 1;
  if (fields[0] == "UNKNOWN") {  // the rest of the line is ignored, as the spec says
    header.local = true;
    return done(std::move(header), end + 2);
  }
  ProxyAddress::Family family{};
  if (fields[0] == "TCP4") {
    family = ProxyAddress::Family::Inet;
  } else if (fields[0] == "TCP6") {
    family = ProxyAddress::Family::Inet6;
  } else {
    return bad("v1: the protocol is not TCP4, TCP6 or UNKNOWN");
  }
  if (fields.size() != 5) return bad("v1: not four fields after the protocol, one space apart");
  const auto sourcePort = v1Port(fields[3]);
  const auto destinationPort = v1Port(fields[4]);
  if (!sourcePort || !destinationPort) return bad("v1: a port is not 0-65535 without leading zeros");
  header.source = v1Address(fields[1], family, *sourcePort);
  header.destination = v1Address(fields[2], family, *destinationPort);
  if (!header.source || !header.destination) return bad("v1: an address does not match its protocol");
  return done(std::move(header), end + 2);
}

// ---- version 2 ----

/// Calls `onTlv(type, value)` for each TLV in `block`; false when one is cut short.
template <typename OnTlv>
bool forEachTlv(std::string_view block, OnTlv&& onTlv) {
  while (!block.empty()) {
    if (block.size() < 3) return false;
    const std::uint16_t length = be16(block, 1);
    if (block.size() < 3u + length) return false;
    if (!onTlv(static_cast<std::uint8_t>(block[0]), block.substr(3, length))) return false;
    block.remove_prefix(3u + length);
  }
  return true;
}

const char* decodeSsl(std::string_view value, ProxySsl& ssl) {
  if (value.size() < 5) return "v2: an SSL TLV shorter than its 5 fixed bytes";
  ssl.client = static_cast<std::uint8_t>(value[0]);
  ssl.verify = (static_cast<std::uint32_t>(be16(value, 1)) << 16) | be16(value, 3);
  const bool whole = forEachTlv(value.substr(5), [&](std::uint8_t type, std::string_view sub) {
    switch (type) {
      case kSslVersion:
        ssl.version = std::string(sub);
        break;
      case kSslCn:
        ssl.commonName = std::string(sub);
        break;
      case kSslCipher:
        ssl.cipher = std::string(sub);
        break;
      case kSslSigAlg:
        ssl.signatureAlgorithm = std::string(sub);
        break;
      case kSslKeyAlg:
        ssl.keyAlgorithm = std::string(sub);
        break;
      default:
        ssl.other.push_back({type, std::string(sub)});
    }
    return true;
  });
  return whole ? nullptr : "v2: an SSL sub-TLV runs past its TLV";
}

/// Decodes the TLVs of `header` (the whole header, `tlvStart` where its TLVs begin).
const char* decodeTlvs(std::string_view header, std::size_t tlvStart, ProxyTlvs& tlvs) {
  const char* error = nullptr;
  const bool whole = forEachTlv(header.substr(tlvStart), [&](std::uint8_t type, std::string_view value) {
    switch (type) {
      case kAlpn:
        tlvs.alpn = std::string(value);
        break;
      case kAuthority:
        tlvs.authority = std::string(value);
        break;
      case kCrc32c: {
        if (value.size() != 4) {
          error = "v2: a CRC32C TLV that is not 4 bytes";
          return false;
        }
        const auto sent = (static_cast<std::uint32_t>(be16(value, 0)) << 16) | be16(value, 2);
        std::string zeroed(header);
        const auto at = static_cast<std::size_t>(value.data() - header.data());
        std::fill_n(zeroed.begin() + static_cast<std::ptrdiff_t>(at), 4, '\0');
        if (crc32c(zeroed) != sent) {
          error = "v2: the CRC32C does not match the header";
          return false;
        }
        tlvs.crc32c = sent;
        break;
      }
      case kNoop:
        break;
      case kUniqueId:
        if (value.size() > kUniqueIdMax) {
          error = "v2: a unique id longer than 128 bytes";
          return false;
        }
        tlvs.uniqueId = std::string(value);
        break;
      case kSsl:
        tlvs.ssl.emplace();
        error = decodeSsl(value, *tlvs.ssl);
        if (error != nullptr) return false;
        break;
      case kNetns:
        tlvs.netns = std::string(value);
        break;
      case kAws:
        if (!value.empty() && static_cast<std::uint8_t>(value[0]) == kAwsVpceId) {
          tlvs.awsVpceId = std::string(value.substr(1));
          break;
        }
        tlvs.other.push_back({type, std::string(value)});
        break;
      default:
        tlvs.other.push_back({type, std::string(value)});
    }
    return true;
  });
  if (error != nullptr) return error;
  return whole ? nullptr : "v2: a TLV runs past the header";
}

ProxyAddress v2Address(std::string_view bytes, ProxyAddress::Family family, std::uint16_t port) {
  ProxyAddress address;
  address.family = family;
  address.port = port;
  if (family == ProxyAddress::Family::Unix) {
    address.path = std::string(bytes.substr(0, std::min(bytes.find('\0'), bytes.size())));
  } else {
    std::memcpy(address.ip.data(), bytes.data(), bytes.size());
  }
  return address;
}

ProxyParse parseV2(std::string_view received) {
  if (!startsLike(received, kProxyV2Signature)) return bad("not a PROXY header");
  if (received.size() > 12) {
    const auto versionCommand = static_cast<std::uint8_t>(received[12]);
    if ((versionCommand >> 4) != 2) return bad("v2: the version is not 2");
    if ((versionCommand & 0x0F) > 1) return bad("v2: the command is neither LOCAL nor PROXY");
  }
  if (received.size() > 13 && (static_cast<std::uint8_t>(received[12]) & 0x0F) == 1) {  // LOCAL ignores the family
    const auto familyProtocol = static_cast<std::uint8_t>(received[13]);
    if ((familyProtocol >> 4) > 3) return bad("v2: an unknown address family");
    if ((familyProtocol & 0x0F) > 2) return bad("v2: an unknown transport protocol");
  }
  if (received.size() < kV2Fixed) return ProxyParse{};
  const std::size_t total = kV2Fixed + be16(received, 14);
  if (received.size() < total) return ProxyParse{};
  const std::string_view whole = received.substr(0, total);

  ProxyHeader header;
  header.version = 2;
  if ((static_cast<std::uint8_t>(whole[12]) & 0x0F) == 0) {  // LOCAL: the block is discarded, as the spec says
    header.local = true;
    return done(std::move(header), total);
  }
  const auto family = static_cast<std::uint8_t>(whole[13]) >> 4;
  const auto protocol = static_cast<std::uint8_t>(whole[13]) & 0x0F;
  if (family == 0 || protocol == 0) return done(std::move(header), total);  // UNSPEC: addresses ignored
  header.datagram = protocol == 2;
  std::size_t addressLength = 0;
  ProxyAddress::Family kind{};
  switch (family) {
    case 1:
      kind = ProxyAddress::Family::Inet;
      addressLength = 4;
      break;
    case 2:
      kind = ProxyAddress::Family::Inet6;
      addressLength = 16;
      break;
    default:
      kind = ProxyAddress::Family::Unix;
      addressLength = kUnixPathBytes;
  }
  const std::size_t portsLength = kind == ProxyAddress::Family::Unix ? 0 : 4;
  const std::size_t blockStart = kV2Fixed + 2 * addressLength + portsLength;
  if (total < blockStart) return bad("v2: the block is shorter than its family's addresses");
  const std::uint16_t sourcePort = portsLength != 0 ? be16(whole, kV2Fixed + 2 * addressLength) : 0;
  const std::uint16_t destinationPort = portsLength != 0 ? be16(whole, kV2Fixed + 2 * addressLength + 2) : 0;
  header.source = v2Address(whole.substr(kV2Fixed, addressLength), kind, sourcePort);
  header.destination = v2Address(whole.substr(kV2Fixed + addressLength, addressLength), kind, destinationPort);
  if (const char* error = decodeTlvs(whole, blockStart, header.tlvs)) return bad(error);
  return done(std::move(header), total);
}

void putBe16(std::string& out, std::size_t value) {
  out += static_cast<char>((value >> 8) & 0xFF);
  out += static_cast<char>(value & 0xFF);
}

std::array<std::uint32_t, 256> crc32cTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

}  // namespace

ProxyAddress ProxyAddress::inet(std::array<std::uint8_t, 4> ip, std::uint16_t port) {
  ProxyAddress address;
  std::copy(ip.begin(), ip.end(), address.ip.begin());
  address.port = port;
  return address;
}

ProxyAddress ProxyAddress::inet6(const std::array<std::uint8_t, 16>& ip, std::uint16_t port) {
  ProxyAddress address;
  address.family = Family::Inet6;
  address.ip = ip;
  address.port = port;
  return address;
}

std::optional<ProxyAddress> ProxyAddress::fromText(std::string_view ip, std::uint16_t port) {
  if (ip.size() > 45 || ip.find('\0') != std::string_view::npos) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  const std::string text(ip);
  ProxyAddress address;
  address.port = port;
  if (inet_pton(AF_INET, text.c_str(), address.ip.data()) == 1) return address;
  if (inet_pton(AF_INET6, text.c_str(), address.ip.data()) == 1) {
    address.family = Family::Inet6;
    return address;
  }
  return std::nullopt;
}

std::string ProxyAddress::ipText() const {
  if (family == Family::Unix) return path;
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == Family::Inet ? AF_INET : AF_INET6, ip.data(), text, sizeof text);
  return text;
}

std::string ProxyAddress::text() const {
  if (family == Family::Unix) return "unix:" + path;
  // One string built in place: this runs once per proxied connection when logs or the console are on.
  char text[INET6_ADDRSTRLEN + 9] = {};  // "[" address "]:" port
  const bool v6 = family == Family::Inet6;
  char* at = text;
  if (v6) *at++ = '[';
  inet_ntop(v6 ? AF_INET6 : AF_INET, ip.data(), at, INET6_ADDRSTRLEN);
  at += std::strlen(at);
  if (v6) *at++ = ']';
  *at++ = ':';
  const auto end = std::to_chars(at, text + sizeof text, port).ptr;
  return std::string(text, static_cast<std::size_t>(end - text));
}

bool ProxyAddress::operator==(const ProxyAddress& other) const {
  return family == other.family && ip == other.ip && port == other.port && path == other.path;
}

bool ProxyTlvs::empty() const {
  return !alpn && !authority && !crc32c && !uniqueId && !ssl && !netns && !awsVpceId && other.empty();
}

ProxyParse parseProxyHeader(std::string_view received) {
  if (received.empty()) return ProxyParse{};
  if (received[0] == 'P') return parseV1(received);
  if (received[0] == '\r') return parseV2(received);
  return bad("not a PROXY header");
}

std::string encodeProxyV1(const std::optional<ProxyAddress>& source, const std::optional<ProxyAddress>& destination) {
  if (!source || !destination || source->family != destination->family ||
      source->family == ProxyAddress::Family::Unix) {
    return "PROXY UNKNOWN\r\n";
  }
  return std::string("PROXY ") + (source->family == ProxyAddress::Family::Inet ? "TCP4 " : "TCP6 ") + source->ipText() +
         " " + destination->ipText() + " " + std::to_string(source->port) + " " + std::to_string(destination->port) +
         "\r\n";
}

std::string encodeProxyV2(const std::optional<ProxyAddress>& source, const std::optional<ProxyAddress>& destination,
                          const std::vector<ProxyTlv>& tlvs, bool withCrc) {
  const bool proxied =
      source && destination && source->family == destination->family && source->family != ProxyAddress::Family::Unix;
  std::string block;
  if (proxied) {
    const std::size_t ipLength = source->family == ProxyAddress::Family::Inet ? 4 : 16;
    block.append(reinterpret_cast<const char*>(source->ip.data()), ipLength);
    block.append(reinterpret_cast<const char*>(destination->ip.data()), ipLength);
    putBe16(block, source->port);
    putBe16(block, destination->port);
  }
  for (const ProxyTlv& tlv : tlvs) {
    block += static_cast<char>(tlv.type);
    putBe16(block, tlv.value.size());
    block += tlv.value;
  }
  std::size_t crcAt = 0;
  if (withCrc) {
    block += static_cast<char>(kCrc32c);
    putBe16(block, 4);
    crcAt = kV2Fixed + block.size();
    block.append(4, '\0');
  }
  if (block.size() > kProxyHeaderMax - kV2Fixed) throw std::length_error("a PROXY v2 header over 65,551 bytes");
  std::string out(kProxyV2Signature);
  out += static_cast<char>(proxied ? 0x21 : 0x20);
  out += static_cast<char>(!proxied ? 0x00 : source->family == ProxyAddress::Family::Inet ? 0x11 : 0x21);
  putBe16(out, block.size());
  out += block;
  if (withCrc) {
    const std::uint32_t crc = crc32c(out);
    for (int i = 0; i < 4; ++i)
      out[crcAt + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (24 - 8 * i)) & 0xFF);
  }
  return out;
}

std::uint32_t crc32c(std::string_view bytes) {
  static const std::array<std::uint32_t, 256> table = crc32cTable();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const char c : bytes) crc = table[(crc ^ static_cast<std::uint8_t>(c)) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::string proxyTlvKey(std::uint8_t type) { return "0x" + toHex(std::string(1, static_cast<char>(type))); }

std::string toHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    out += kDigits[static_cast<std::uint8_t>(c) >> 4];
    out += kDigits[static_cast<std::uint8_t>(c) & 0x0F];
  }
  return out;
}

}  // namespace echod
