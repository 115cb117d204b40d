// ALPN's pure part (protocol/Alpn.h): the list a setting names, its wire
// form, and the server's choice (docs/protocol.md, "ALPN"; RFC 7301).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/Alpn.h"

namespace echod {
namespace {

using Names = std::vector<std::string>;

std::string refusal(std::string_view text) {
  std::string error;
  const auto parsed = parseAlpnList(text, error);
  EXPECT_FALSE(parsed.has_value()) << text;
  return error;
}

TEST(Alpn, AListKeepsItsOrder) {
  std::string error;
  EXPECT_EQ(parseAlpnList("h2,http/1.1", error), Names({"h2", "http/1.1"}));
  EXPECT_EQ(parseAlpnList("echo", error), Names({"echo"}));
}

TEST(Alpn, EmptyNamesRepeatsSpacesAndLongNamesAreRefused) {
  EXPECT_EQ(refusal(""), "an empty protocol name");
  EXPECT_EQ(refusal("h2,"), "an empty protocol name");
  EXPECT_EQ(refusal(",h2"), "an empty protocol name");
  EXPECT_EQ(refusal("h2,h2"), "'h2' twice");
  EXPECT_EQ(refusal("h 2"), "a protocol name with a space or a byte outside printable ASCII");
  EXPECT_EQ(refusal(std::string("h\x80", 2)), "a protocol name with a space or a byte outside printable ASCII");
  EXPECT_EQ(refusal(std::string(256, 'a')), "a protocol name longer than 255 bytes");
  std::string error;
  EXPECT_TRUE(parseAlpnList(std::string(255, 'a'), error).has_value());
}

TEST(Alpn, AtMostSixteenNames) {
  std::string sixteen;
  for (int i = 0; i < 16; ++i) sixteen += (i == 0 ? "p" : ",p") + std::to_string(i);
  std::string error;
  EXPECT_EQ(parseAlpnList(sixteen, error)->size(), 16U);
  EXPECT_EQ(refusal(sixteen + ",p16"), "more than 16 protocol names");
}

TEST(Alpn, TheWireFormPrefixesEachNameWithItsLength) {
  EXPECT_EQ(encodeAlpn({"h2", "http/1.1"}), std::string("\x02h2\x08http/1.1"));
  EXPECT_EQ(encodeAlpn({}), "");
}

TEST(Alpn, TheServerChoosesItsOwnFirstPreferenceAmongThoseOffered) {
  const Names server{"h2", "http/1.1"};
  const auto choice = chooseAlpn(server, std::string("\x08http/1.1\x02h2", 12));
  EXPECT_EQ(choice.result, AlpnChoice::Result::Chosen);
  EXPECT_EQ(choice.protocol, "h2");
  EXPECT_EQ(chooseAlpn(server, encodeAlpn({"foo", "http/1.1"})).protocol, "http/1.1");
}

TEST(Alpn, NothingInCommonIsNoOverlap) {
  const auto choice = chooseAlpn({"h2"}, encodeAlpn({"foo", "bar"}));
  EXPECT_EQ(choice.result, AlpnChoice::Result::NoOverlap);
  EXPECT_EQ(choice.protocol, "");
}

TEST(Alpn, AMalformedOfferIsRefusedWhateverItHolds) {
  const Names server{"h2"};
  EXPECT_EQ(chooseAlpn(server, "").result, AlpnChoice::Result::Malformed);
  EXPECT_EQ(chooseAlpn(server, std::string("\x02h2\x00", 4)).result, AlpnChoice::Result::Malformed);
  EXPECT_EQ(chooseAlpn(server, std::string("\x02h2\x05"
                                           "ab",
                                           6))
                .result,
            AlpnChoice::Result::Malformed);
  EXPECT_EQ(chooseAlpn(server, std::string("\x03h2", 3)).result, AlpnChoice::Result::Malformed);
}

}  // namespace
}  // namespace echod
