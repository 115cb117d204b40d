// The pure parts of rollouts and connection lifetime (protocol/Rollout.h):
// labels, S~J age limits and their draws, --expect bands, and the choices of
// the idle-timeout search.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "protocol/Rollout.h"

namespace echod {
namespace {

TEST(Labels, ParseInTheOrderGivenWithSpacesTrimmed) {
  std::string error;
  const auto labels = parseLabels(" track=canary, zone = b ,app.kubernetes.io-name_x=echo", error);
  ASSERT_TRUE(labels) << error;
  ASSERT_EQ(labels->size(), 3u);
  EXPECT_EQ((*labels)[0], (std::pair<std::string, std::string>{"track", "canary"}));
  EXPECT_EQ((*labels)[1], (std::pair<std::string, std::string>{"zone", "b"}));
  EXPECT_EQ((*labels)[2].first, "app.kubernetes.io-name_x");
  EXPECT_TRUE(parseLabels("", error)->empty());
  EXPECT_EQ(parseLabels("empty=", error)->front().second, "");
}

TEST(Labels, RefuseBadKeysRepeatsAndMoreThanSixteen) {
  std::string error;
  EXPECT_FALSE(parseLabels("Track=canary", error));
  EXPECT_NE(error.find("a-z 0-9"), std::string::npos) << error;
  EXPECT_FALSE(parseLabels("track", error));
  EXPECT_NE(error.find("key=value"), std::string::npos) << error;
  EXPECT_FALSE(parseLabels("=x", error));
  EXPECT_FALSE(parseLabels("a=1,a=2", error));
  EXPECT_NE(error.find("twice"), std::string::npos) << error;
  EXPECT_FALSE(parseLabels("a b=1", error));
  std::string sixteen;
  for (int i = 0; i < 16; ++i) sixteen += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
  EXPECT_TRUE(parseLabels(sixteen, error));
  EXPECT_FALSE(parseLabels(sixteen + ",k16=v", error));
  EXPECT_NE(error.find("16"), std::string::npos) << error;
}

TEST(AgeLimit, ParsesSecondsAndJitter) {
  std::string error;
  EXPECT_FALSE(AgeLimit::parse("0", error)->any());
  const auto plain = AgeLimit::parse("300", error);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->minMs, 300000);
  EXPECT_EQ(plain->maxMs, 300000);
  EXPECT_EQ(plain->describe(), "300 s");
  const auto jittered = AgeLimit::parse("30~5", error);
  ASSERT_TRUE(jittered);
  EXPECT_EQ(jittered->minMs, 25000);
  EXPECT_EQ(jittered->maxMs, 35000);
  EXPECT_EQ(jittered->describe(), "30 s ~ 5 s");
  const auto fraction = AgeLimit::parse(" 0.5 ~ 0.25 ", error);
  ASSERT_TRUE(fraction);
  EXPECT_EQ(fraction->minMs, 250);
  EXPECT_EQ(fraction->maxMs, 750);
}

TEST(AgeLimit, RefusesNegativeMalformedAndJitterAsLargeAsTheAge) {
  std::string error;
  for (const char* bad : {"-1", "abc", "30~", "~5", "30~30", "30~40", "1e3", "0.05", "30~5~1", "2592001"}) {
    EXPECT_FALSE(AgeLimit::parse(bad, error)) << bad;
  }
}

TEST(AgeLimit, DrawsCoverTheWholeBandAndNeverLeaveIt) {
  std::string error;
  const auto limit = *AgeLimit::parse("1~0.5", error);
  std::mt19937_64 random(7);
  std::int64_t lowest = limit.maxMs;
  std::int64_t highest = limit.minMs;
  for (int i = 0; i < 10000; ++i) {
    const std::int64_t drawn = limit.draw(random());
    ASSERT_GE(drawn, 500);
    ASSERT_LE(drawn, 1500);
    lowest = std::min(lowest, drawn);
    highest = std::max(highest, drawn);
  }
  EXPECT_LT(lowest, 520);  // uniform over 1001 values: 10,000 draws reach both ends
  EXPECT_GT(highest, 1480);
  EXPECT_EQ(AgeLimit::parse("2", error)->draw(12345), 2000);
  EXPECT_EQ(limit.draw(0), 500);
  EXPECT_EQ(limit.draw(1000), 1500);
}

TEST(ExpectBands, ParseValuesPercentsAndTolerances) {
  std::string error;
  const auto bands = parseExpect("v2:90,v1:10~2.5,label:with:colon:0", error);
  ASSERT_TRUE(bands) << error;
  ASSERT_EQ(bands->size(), 3u);
  EXPECT_EQ((*bands)[0].value, "v2");
  EXPECT_EQ((*bands)[0].percent, 90);
  EXPECT_EQ((*bands)[0].tolerance, 5);
  EXPECT_EQ((*bands)[1].tolerance, 2.5);
  EXPECT_EQ((*bands)[2].value, "label:with:colon");  // the last colon splits
  for (const char* bad : {"", "v2", "v2:", "v2:x", "v2:101", "v2:90~", "v2:90~-1", ":50"}) {
    EXPECT_FALSE(parseExpect(bad, error)) << bad;
  }
}

TEST(ExpectBands, HoldWithinTheirToleranceOfTheAnsweredShare) {
  std::string error;
  const auto bands = *parseExpect("v2:90,v1:10,v3:0~0", error);
  const auto checks = checkBands(bands, {{"v2", 86}, {"v1", 14}}, 100);
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_DOUBLE_EQ(checks[0].share, 86);
  EXPECT_TRUE(checks[0].holds);  // 4 points off
  EXPECT_TRUE(checks[1].holds);
  EXPECT_TRUE(checks[2].holds);  // absent: 0 %
  const auto off = checkBands(bands, {{"v2", 84}, {"v1", 15}, {"v3", 1}}, 100);
  EXPECT_FALSE(off[0].holds);  // 6 points off
  EXPECT_TRUE(off[1].holds);   // 5 points off: the edge holds
  EXPECT_FALSE(off[2].holds);
  EXPECT_FALSE(checkBands(bands, {}, 0)[2].holds);  // nothing answered: no share holds
  // A third of 3 connections reads 33.33 %: a band of 33~0.5 holds it.
  EXPECT_TRUE(checkBands(*parseExpect("a:33~0.5", error), {{"a", 1}}, 3)[0].holds);
}

TEST(IdleTimeoutSearch, TheFirstRoundSpreadsUpToTheMax) {
  const IdleTimeoutSearch search(6);
  const auto first = search.firstRound();
  ASSERT_EQ(first.size(), 6u);
  EXPECT_DOUBLE_EQ(first.front(), 1);
  EXPECT_DOUBLE_EQ(first.back(), 6);
}

TEST(IdleTimeoutSearch, TheSecondRoundSplitsTheGapAndKeepsTheBounds) {
  const IdleTimeoutSearch search(6);
  const auto second = search.secondRound(3, 4);
  ASSERT_EQ(second.size(), 6u);  // 12 connections in all
  EXPECT_GT(second.front(), 3);
  EXPECT_LT(second.back(), 4);
  for (std::size_t i = 1; i < second.size(); ++i) EXPECT_GT(second[i], second[i - 1]);
  double silence = 0;
  for (double s : search.firstRound()) silence = std::max(silence, s);
  double secondLongest = 0;
  for (double s : second) secondLongest = std::max(secondLongest, s);
  EXPECT_LE(silence + secondLongest, 2 * 6);  // at most 2 x MAX seconds of silence in all
  // Resolution: the gap of MAX/6 is cut in 7: a second's bracket at MAX 6.
  EXPECT_NEAR(second[1] - second[0], 1.0 / 7, 1e-9);
  EXPECT_TRUE(search.secondRound(6, std::nullopt).empty());  // every probe survived
  EXPECT_TRUE(search.secondRound(5, 4).empty());             // out of order: nothing to split
  EXPECT_EQ(search.secondRound(0, 1).size(), 6u);            // even the shortest died
}

}  // namespace
}  // namespace echod
