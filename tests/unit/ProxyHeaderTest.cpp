// The PROXY protocol header core (protocol/ProxyHeader.h), to the byte: the
// spec's own examples (HAProxy's proxy-protocol.txt), a header HAProxy sent,
// every split, every way a header goes wrong, and what the encoders write.
#include "protocol/ProxyHeader.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace echod {
namespace {

using Status = ProxyParse::Status;
using namespace std::string_literals;

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (const int v : values) out += static_cast<char>(v);
  return out;
}

std::string signature() { return std::string(kProxyV2Signature); }

/// A v2 header of `command` (0x20 LOCAL, 0x21 PROXY) and `family` byte over `block`.
std::string v2(int command, int family, const std::string& block) {
  return signature() +
         bytes({command, family, static_cast<int>(block.size() >> 8), static_cast<int>(block.size() & 0xFF)}) + block;
}

/// A TLV of `type` holding `value`.
std::string tlv(int type, const std::string& value) {
  return bytes({type, static_cast<int>(value.size() >> 8), static_cast<int>(value.size() & 0xFF)}) + value;
}

/// The IPv4 address block 10.0.0.1:1000 -> 10.0.0.2:80.
std::string inetBlock() { return bytes({10, 0, 0, 1, 10, 0, 0, 2, 0x03, 0xE8, 0x00, 0x50}); }

/// Every prefix shorter than the header says NeedMore; the whole says Done with its length.
void expectEverySplit(const std::string& header) {
  for (std::size_t n = 0; n < header.size(); ++n) {
    EXPECT_EQ(parseProxyHeader(std::string_view(header).substr(0, n)).status, Status::NeedMore) << "prefix " << n;
  }
  const ProxyParse whole = parseProxyHeader(header + "hello\n");
  ASSERT_EQ(whole.status, Status::Done) << whole.error;
  EXPECT_EQ(whole.length, header.size());
}

ProxyParse parsed(const std::string& header) {
  ProxyParse p = parseProxyHeader(header);
  EXPECT_EQ(p.status, Status::Done) << p.error;
  EXPECT_EQ(p.length, header.size());
  return p;
}

void expectBad(const std::string& input) {
  const ProxyParse p = parseProxyHeader(input);
  EXPECT_EQ(p.status, Status::Bad) << "accepted: " << testing::PrintToString(input);
  EXPECT_STRNE(p.error, "");
}

// ---- version 1 ----

TEST(ProxyHeaderV1, TheSpecsExampleGivesTheClientAndLeavesTheRequest) {
  const std::string input = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n";
  const ProxyParse p = parseProxyHeader(input);
  ASSERT_EQ(p.status, Status::Done) << p.error;
  EXPECT_EQ(p.length, 47u);
  EXPECT_EQ(input.substr(p.length), "GET / HTTP/1.1\r\n");
  EXPECT_EQ(p.header.version, 1);
  EXPECT_FALSE(p.header.local);
  EXPECT_EQ(p.header.source->text(), "192.168.0.1:56324");
  EXPECT_EQ(p.header.destination->text(), "192.168.0.11:443");
  EXPECT_TRUE(p.header.tlvs.empty());
}

TEST(ProxyHeaderV1, Tcp6GivesBracketedAddresses) {
  const ProxyParse p = parsed("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n");
  EXPECT_EQ(p.header.source->text(), "[2001:db8::1]:65535");
  EXPECT_EQ(p.header.destination->text(), "[::1]:0");
}

TEST(ProxyHeaderV1, AnIpv4MappedAddressIsWrittenAsInetNtopWritesIt) {
  const ProxyParse p = parsed("PROXY TCP6 ::ffff:1.2.3.4 ::1 1 2\r\n");
  EXPECT_EQ(p.header.source->text(), "[::ffff:1.2.3.4]:1");
}

TEST(ProxyHeaderV1, TheLongestTcp6LineIsAccepted) {
  const std::string full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string line = "PROXY TCP6 " + full + " " + full + " 65535 65535\r\n";
  EXPECT_EQ(line.size(), 104u);
  expectEverySplit(line);
}

TEST(ProxyHeaderV1, UnknownIsLocalAndItsRestIsIgnored) {
  EXPECT_TRUE(parsed("PROXY UNKNOWN\r\n").header.local);
  const std::string full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string worst = "PROXY UNKNOWN " + full + " " + full + " 65535 65535\r\n";
  EXPECT_EQ(worst.size(), kProxyV1Max);
  const ProxyParse p = parsed(worst);
  EXPECT_TRUE(p.header.local);
  EXPECT_FALSE(p.header.source);
}

TEST(ProxyHeaderV1, EverySplitNeedsMoreUntilTheCrlf) {
  expectEverySplit("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n");
  expectEverySplit("PROXY UNKNOWN\r\n");
}

TEST(ProxyHeaderV1, NoCrlfWithin107BytesIsBad) {
  const std::string long_line = "PROXY UNKNOWN " + std::string(92, 'a');  // 106 bytes, then CR at 107
  EXPECT_EQ(parseProxyHeader(long_line).status, Status::NeedMore);
  expectBad(long_line + "\r\n");
  expectBad(long_line + "a");
}

TEST(ProxyHeaderV1, ALoneLfOrCrIsBad) {
  expectBad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n");
  expectBad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX");
  expectBad("PROXY UNKNOWN\n");
}

TEST(ProxyHeaderV1, FieldsThatDoNotMatchExactlyAreBad) {
  expectBad("PROXY TCP4 192.168.01.1 1.2.3.4 1 2\r\n");  // a leading zero
  expectBad("PROXY TCP4 1.2.3.4 1.2.3.4 0443 2\r\n");    // a port with a leading zero
  expectBad("PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n");   // past 65535
  expectBad("PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n");         // three numbers
  expectBad("PROXY TCP4 256.2.3.4 1.2.3.4 1 2\r\n");     // past 255
  expectBad("PROXY TCP4 ::1 1.2.3.4 1 2\r\n");           // IPv6 under TCP4
  expectBad("PROXY TCP6 1.2.3.4 ::1 1 2\r\n");           // IPv4 under TCP6
  expectBad("PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n");      // two spaces
  expectBad("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n");      // a trailing space
  expectBad("PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n");         // a field missing
  expectBad("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n");     // a field too many
  expectBad("PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n");       // no such protocol
  expectBad("PROXY UNKNOWNX\r\n");
  expectBad("PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n");     // case matters
  expectBad("PROXY TCP4 1.2.3.4\0 1.2.3.4 1 2\r\n"s);  // a NUL
  expectBad("PROXY\r\n");
}

TEST(ProxyHeaderV1, WhatIsNotAHeaderIsBadAtItsFirstWrongByte) {
  expectBad("G");
  expectBad("GET / HTTP/1.1\r\n");
  expectBad("proxy");
  expectBad("PROXX");
  expectBad("PROXY\t");
  expectBad("hello\n");
}

// ---- version 2 ----

TEST(ProxyHeaderV2, AHeaderHaproxySentGivesItsAddresses) {
  // HAProxy's send-proxy-v2 before an HTTP request: 172.19.0.1:42578 -> 172.19.0.3:80.
  const std::string header = signature() + bytes({0x21, 0x11, 0x00, 0x0c, 0xac, 0x13, 0x00, 0x01, 0xac, 0x13, 0x00,
                                                  0x03, 0xa6, 0x52, 0x00, 0x50});
  const ProxyParse p = parseProxyHeader(header + "GET / HTTP/1.1\r\n");
  ASSERT_EQ(p.status, Status::Done) << p.error;
  EXPECT_EQ(p.length, 28u);
  EXPECT_EQ(p.header.version, 2);
  EXPECT_FALSE(p.header.local);
  EXPECT_FALSE(p.header.datagram);
  EXPECT_EQ(p.header.source->text(), "172.19.0.1:42578");
  EXPECT_EQ(p.header.destination->text(), "172.19.0.3:80");
  expectEverySplit(header);
}

TEST(ProxyHeaderV2, Ipv6AndUdpAndUnixFamilies) {
  std::string block6(32, '\0');
  block6[15] = 1;                                                                                 // ::1
  block6[16] = 0x20, block6[17] = 0x01, block6[18] = 0x0d, block6[19] = static_cast<char>(0xb8);  // 2001:db8::
  block6 += bytes({0x12, 0x34, 0x00, 0x35});
  ProxyParse p = parsed(v2(0x21, 0x22, block6));
  EXPECT_TRUE(p.header.datagram);
  EXPECT_EQ(p.header.source->text(), "[::1]:4660");
  EXPECT_EQ(p.header.destination->text(), "[2001:db8::]:53");

  std::string unixBlock(216, '\0');
  unixBlock.replace(0, 9, "/run/a.sk");
  unixBlock.replace(108, 9, "/run/b.sk");
  p = parsed(v2(0x21, 0x31, unixBlock));
  EXPECT_EQ(p.header.source->text(), "unix:/run/a.sk");
  EXPECT_EQ(p.header.destination->ipText(), "/run/b.sk");
}

TEST(ProxyHeaderV2, LocalDiscardsItsBlockWhateverTheFamily) {
  ProxyParse p = parsed(v2(0x20, 0x00, ""));
  EXPECT_TRUE(p.header.local);
  EXPECT_FALSE(p.header.source);
  p = parsed(v2(0x20, 0xFF, "junk!"));  // the family of a LOCAL header is ignored, its length is not
  EXPECT_TRUE(p.header.local);
  EXPECT_TRUE(p.header.tlvs.empty());
}

TEST(ProxyHeaderV2, UnspecifiedFamilyOrTransportIsServedWithoutAddresses) {
  for (const int family : {0x00, 0x01, 0x10, 0x02}) {
    const ProxyParse p = parsed(v2(0x21, family, inetBlock()));
    EXPECT_FALSE(p.header.local);
    EXPECT_FALSE(p.header.source) << family;
  }
}

TEST(ProxyHeaderV2, WrongVersionCommandFamilyOrTransportIsBadAtOnce) {
  expectBad(signature() + bytes({0x11}));        // version 1 in a v2 header
  expectBad(signature() + bytes({0x22}));        // command 2
  expectBad(signature() + bytes({0x21, 0x41}));  // family 4
  expectBad(signature() + bytes({0x21, 0x13}));  // transport 3
  expectBad(signature().substr(0, 5) + "X");     // a broken signature
  expectBad("\r\n\r\n\r");
}

TEST(ProxyHeaderV2, ABlockShorterThanItsAddressesIsBad) {
  expectBad(v2(0x21, 0x11, inetBlock().substr(0, 11)));
  expectBad(v2(0x21, 0x21, std::string(35, '\0')));
  expectBad(v2(0x21, 0x31, std::string(215, '\0')));
}

TEST(ProxyHeaderV2, TlvsAreDecodedByName) {
  const std::string ssl = bytes({0x07, 0, 0, 0, 0}) + tlv(0x21, "TLSv1.3") + tlv(0x22, "client.example") +
                          tlv(0x23, "TLS_AES_128_GCM_SHA256") + tlv(0x24, "RSA-SHA256") + tlv(0x25, "RSA2048") +
                          tlv(0x26, "x");
  const std::string block = inetBlock() + tlv(0x01, "h2") + tlv(0x02, "echo.example") + tlv(0x04, "pad") +
                            tlv(0x05, bytes({0xde, 0xad, 0xbe, 0xef})) + tlv(0x20, ssl) + tlv(0x30, "blue") +
                            tlv(0xEA, "\x01vpce-08d2bf15fac5001c9") + tlv(0xEA, "\x02other") + tlv(0xE0, "custom") +
                            tlv(0x06, "");
  const ProxyParse p = parsed(v2(0x21, 0x11, block));
  const ProxyTlvs& t = p.header.tlvs;
  EXPECT_EQ(t.alpn, "h2");
  EXPECT_EQ(t.authority, "echo.example");
  EXPECT_EQ(toHex(*t.uniqueId), "deadbeef");
  EXPECT_EQ(t.netns, "blue");
  EXPECT_EQ(t.awsVpceId, "vpce-08d2bf15fac5001c9");
  ASSERT_TRUE(t.ssl);
  EXPECT_EQ(t.ssl->client, 0x07);
  EXPECT_EQ(t.ssl->verify, 0u);
  EXPECT_EQ(t.ssl->version, "TLSv1.3");
  EXPECT_EQ(t.ssl->commonName, "client.example");
  EXPECT_EQ(t.ssl->cipher, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(t.ssl->signatureAlgorithm, "RSA-SHA256");
  EXPECT_EQ(t.ssl->keyAlgorithm, "RSA2048");
  ASSERT_EQ(t.ssl->other.size(), 1u);
  EXPECT_EQ(t.ssl->other[0], (ProxyTlv{0x26, "x"}));
  ASSERT_EQ(t.other.size(), 3u);  // NOOP is not kept
  EXPECT_EQ(t.other[0], (ProxyTlv{0xEA, "\x02other"}));
  EXPECT_EQ(t.other[1], (ProxyTlv{0xE0, "custom"}));
  EXPECT_EQ(t.other[2], (ProxyTlv{0x06, ""}));
  EXPECT_EQ(proxyTlvKey(0xE0), "0xe0");
  expectEverySplit(v2(0x21, 0x11, block));
}

TEST(ProxyHeaderV2, TlvsThatRunPastTheirBoundsAreBad) {
  expectBad(v2(0x21, 0x11, inetBlock() + bytes({0x01, 0x00})));                                 // a TLV's length cut
  expectBad(v2(0x21, 0x11, inetBlock() + bytes({0x01, 0x00, 0x05, 'a'})));                      // its value cut
  expectBad(v2(0x21, 0x11, inetBlock() + tlv(0x20, bytes({1, 0, 0, 0}))));                      // SSL under 5 bytes
  expectBad(v2(0x21, 0x11, inetBlock() + tlv(0x20, bytes({1, 0, 0, 0, 0, 0x21, 0, 9, 'x'}))));  // sub-TLV cut
  expectBad(v2(0x21, 0x11, inetBlock() + tlv(0x05, std::string(129, 'u'))));                    // unique id over 128
  EXPECT_EQ(parsed(v2(0x21, 0x11, inetBlock() + tlv(0x05, std::string(128, 'u')))).header.tlvs.uniqueId->size(), 128u);
}

TEST(ProxyHeaderV2, TheCrcIsChecked) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // RFC 3720's check value
  const std::string good = encodeProxyV2(ProxyAddress::inet({10, 0, 0, 1}, 1000), ProxyAddress::inet({10, 0, 0, 2}, 80),
                                         {{0x02, "echo.example"}}, true);
  const ProxyParse p = parsed(good);
  ASSERT_TRUE(p.header.tlvs.crc32c);
  EXPECT_EQ(p.header.tlvs.authority, "echo.example");
  std::string wrong = good;
  wrong[20] ^= 1;  // an address changed after the sum
  expectBad(wrong);
  std::string badSum = good;
  badSum.back() ^= 1;
  expectBad(badSum);
  expectBad(v2(0x21, 0x11, inetBlock() + tlv(0x03, "abc")));  // not 4 bytes
}

TEST(ProxyHeaderV2, TheLongestHeaderTheSpecAllowsIsAccepted) {
  const std::string header = v2(0x21, 0x11, inetBlock() + tlv(0x04, std::string(65535 - 12 - 3, 'p')));
  ASSERT_EQ(header.size(), kProxyHeaderMax);
  const ProxyParse p = parseProxyHeader(header + "after");
  ASSERT_EQ(p.status, Status::Done) << p.error;
  EXPECT_EQ(p.length, kProxyHeaderMax);
  EXPECT_EQ(parseProxyHeader(std::string_view(header).substr(0, kProxyHeaderMax - 1)).status, Status::NeedMore);
}

// ---- the sender's side ----

TEST(ProxyHeaderEncode, V1IsTheSpecsLine) {
  EXPECT_EQ(encodeProxyV1(ProxyAddress::inet({192, 168, 0, 1}, 56324), ProxyAddress::inet({192, 168, 0, 11}, 443)),
            "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
  EXPECT_EQ(encodeProxyV1(ProxyAddress::fromText("2001:db8::1", 1), ProxyAddress::fromText("::1", 2)),
            "PROXY TCP6 2001:db8::1 ::1 1 2\r\n");
  EXPECT_EQ(encodeProxyV1(std::nullopt, std::nullopt), "PROXY UNKNOWN\r\n");
  EXPECT_EQ(encodeProxyV1(ProxyAddress::fromText("::1", 1), ProxyAddress::fromText("1.2.3.4", 2)), "PROXY UNKNOWN\r\n");
}

TEST(ProxyHeaderEncode, V2IsTheBytesHaproxySends) {
  const std::string expected = signature() + bytes({0x21, 0x11, 0x00, 0x0c, 0xac, 0x13, 0x00, 0x01, 0xac, 0x13, 0x00,
                                                    0x03, 0xa6, 0x52, 0x00, 0x50});
  EXPECT_EQ(encodeProxyV2(ProxyAddress::inet({172, 19, 0, 1}, 42578), ProxyAddress::inet({172, 19, 0, 3}, 80)),
            expected);
  EXPECT_EQ(encodeProxyV2(std::nullopt, std::nullopt), signature() + bytes({0x20, 0x00, 0x00, 0x00}));
}

TEST(ProxyHeaderEncode, WhatIsEncodedParsesBack) {
  const auto source = ProxyAddress::fromText("2001:db8::7", 40000);
  const auto destination = ProxyAddress::fromText("2001:db8::8", 4570);
  ProxyParse p = parsed(encodeProxyV2(source, destination, {{0x05, "id"}, {0xE1, "x"}}, true));
  EXPECT_EQ(*p.header.source, *source);
  EXPECT_EQ(*p.header.destination, *destination);
  EXPECT_EQ(p.header.tlvs.uniqueId, "id");
  ASSERT_EQ(p.header.tlvs.other.size(), 1u);
  p = parsed(encodeProxyV1(source, destination));
  EXPECT_EQ(*p.header.source, *source);
  EXPECT_EQ(*p.header.destination, *destination);
}

}  // namespace
}  // namespace echod
