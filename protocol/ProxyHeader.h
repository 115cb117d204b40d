#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace echod {

/// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2),
/// both roles and no I/O: a receiver's parser (bytes in, "need more", "done"
/// or "bad" out) and a sender's encoders. No sockets, clocks or threads, so it
/// is tested to the byte and fuzzed. The rules echod keeps are in
/// docs/protocol.md, "The PROXY protocol listener".

/// One end of a proxied connection, as the header tells it.
struct ProxyAddress {
  enum class Family : std::uint8_t { Inet, Inet6, Unix };
  Family family = Family::Inet;
  std::array<std::uint8_t, 16> ip{};  ///< network byte order; the first 4 bytes for Inet
  std::uint16_t port = 0;
  std::string path;  ///< Unix: the socket's path (up to the first NUL of its 108 bytes)

  static ProxyAddress inet(std::array<std::uint8_t, 4> ip, std::uint16_t port);
  static ProxyAddress inet6(const std::array<std::uint8_t, 16>& ip, std::uint16_t port);
  /// Parses "a.b.c.d" or an IPv6 address in text (no brackets); nullopt when neither.
  static std::optional<ProxyAddress> fromText(std::string_view ip, std::uint16_t port);

  /// "1.2.3.4:80", "[2001:db8::1]:80", or "unix:/path".
  std::string text() const;
  /// The address alone: "1.2.3.4", "2001:db8::1", or the Unix path.
  std::string ipText() const;

  bool operator==(const ProxyAddress& other) const;
  bool operator!=(const ProxyAddress& other) const { return !(*this == other); }
};

/// A TLV the parser does not name: its type and raw value.
struct ProxyTlv {
  std::uint8_t type = 0;
  std::string value;
  bool operator==(const ProxyTlv& other) const { return type == other.type && value == other.value; }
};

/// PP2_TYPE_SSL: the client's TLS facts, with its sub-TLVs decoded.
struct ProxySsl {
  std::uint8_t client = 0;   ///< PP2_CLIENT_SSL 0x01, CERT_CONN 0x02, CERT_SESS 0x04
  std::uint32_t verify = 0;  ///< 0: the client's certificate was verified
  std::optional<std::string> version, commonName, cipher, signatureAlgorithm, keyAlgorithm;
  std::vector<ProxyTlv> other;  ///< sub-TLVs of unnamed types
};

/// The TLVs of a version 2 header, decoded where the spec (or AWS, for 0xEA) names them.
struct ProxyTlvs {
  std::optional<std::string> alpn;       ///< 0x01
  std::optional<std::string> authority;  ///< 0x02, the client's SNI or host name
  std::optional<std::uint32_t> crc32c;   ///< 0x03, already checked against the header
  std::optional<std::string> uniqueId;   ///< 0x05, raw bytes (at most 128)
  std::optional<ProxySsl> ssl;           ///< 0x20
  std::optional<std::string> netns;      ///< 0x30
  std::optional<std::string> awsVpceId;  ///< 0xEA subtype 0x01: AWS's VPC endpoint id
  std::vector<ProxyTlv> other;           ///< everything else but NOOP (0x04), in arrival order
  bool empty() const;
};

/// What a complete, valid header said.
struct ProxyHeader {
  int version = 0;  ///< 1 or 2
  /// True for v2 LOCAL and v1 UNKNOWN (health checks): the connection is the
  /// proxy's own, and the socket's addresses are the ones to use.
  bool local = false;
  /// Set for v1 TCP4/TCP6 and v2 PROXY over INET, INET6 or UNIX; unset when
  /// local, or when v2 names an unspecified family or transport (then the
  /// socket's addresses are used too).
  std::optional<ProxyAddress> source, destination;
  bool datagram = false;  ///< v2: the proxied connection was SOCK_DGRAM (UDP)
  ProxyTlvs tlvs;         ///< v2 PROXY only; a LOCAL header's block is discarded
};

/// The outcome of parseProxyHeader().
struct ProxyParse {
  enum class Status : std::uint8_t {
    NeedMore,  ///< a valid header so far, not yet complete
    Done,      ///< `header` is complete: the first `length` bytes were it
    Bad        ///< not a valid header: `error` says why
  };
  Status status = Status::NeedMore;
  std::size_t length = 0;
  ProxyHeader header;
  const char* error = "";  ///< a short English reason, for logs (a string literal)
};

/// The longest header either version allows: v2's 16 bytes and a 65,535-byte block.
inline constexpr std::size_t kProxyHeaderMax = 16 + 65535;
/// The longest v1 line, CRLF included (the spec's worst case).
inline constexpr std::size_t kProxyV1Max = 107;
/// The 12-byte signature that opens every v2 header.
inline constexpr std::string_view kProxyV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};

/// Reads the header at the start of `received` (all bytes received so far on
/// the connection). Needs no state between calls: call again with more bytes
/// after NeedMore. Says Bad as soon as the bytes cannot start a valid header.
ProxyParse parseProxyHeader(std::string_view received);

/// A v1 line for a TCP connection from `source` to `destination` (both Inet
/// or both Inet6), or "PROXY UNKNOWN\r\n" when they are unset or differ in family.
std::string encodeProxyV1(const std::optional<ProxyAddress>& source, const std::optional<ProxyAddress>& destination);

/// A v2 header: PROXY with the addresses (TCP over Inet/Inet6) and `tlvs`
/// (type, value; NOOP and the rest as given), or LOCAL when the addresses are
/// unset. With `withCrc`, a CRC32C TLV is appended and filled in.
std::string encodeProxyV2(const std::optional<ProxyAddress>& source, const std::optional<ProxyAddress>& destination,
                          const std::vector<ProxyTlv>& tlvs = {}, bool withCrc = false);

/// CRC32C (Castagnoli, RFC 4960 appendix B) of `bytes`.
std::uint32_t crc32c(std::string_view bytes);

/// How a TLV the parser does not name is keyed when shown: "0x" and two lower-case hex digits.
std::string proxyTlvKey(std::uint8_t type);

/// `bytes` in lower-case hex, two digits a byte (unique ids, unnamed TLVs).
std::string toHex(std::string_view bytes);

}  // namespace echod
