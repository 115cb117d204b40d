#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/LineFramer.h"

namespace echod {
namespace {

std::vector<std::string> framed(LineFramer& framer, std::string_view data) {
  std::vector<std::string> lines;
  const auto consumed = framer.feed(data, [&](std::string_view line) {
    lines.emplace_back(line);
    return true;
  });
  if (!framer.lineTooLong()) {
    EXPECT_EQ(consumed, data.size());
  }
  return lines;
}

TEST(LineFramer, SplitsOnNewline) {
  LineFramer framer(100);
  EXPECT_EQ(framed(framer, "a\nbc\n\n"), (std::vector<std::string>{"a", "bc", ""}));
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(LineFramer, DropsOneCarriageReturnBeforeNewline) {
  LineFramer framer(100);
  EXPECT_EQ(framed(framer, "a\r\nb\r\r\nc\rd\n"), (std::vector<std::string>{"a", "b\r", "c\rd"}));
}

TEST(LineFramer, JoinsALineAcrossChunks) {
  LineFramer framer(100);
  EXPECT_TRUE(framed(framer, "hel").empty());
  EXPECT_EQ(framer.buffered(), 3u);
  EXPECT_TRUE(framed(framer, "lo\r").empty());
  EXPECT_EQ(framed(framer, "\nx"), (std::vector<std::string>{"hello"}));
  EXPECT_EQ(framer.buffered(), 1u);
}

TEST(LineFramer, KeepsNulAndInvalidUtf8) {
  LineFramer framer(100);
  const std::string data("a\0b\xff\xfe\n", 6);
  EXPECT_EQ(framed(framer, data), (std::vector<std::string>{std::string("a\0b\xff\xfe", 5)}));
}

TEST(LineFramer, LineOfExactlyTheBoundPasses) {
  LineFramer framer(4);
  EXPECT_EQ(framed(framer, "abcd\n"), (std::vector<std::string>{"abcd"}));
  EXPECT_EQ(framed(framer, "abcd\r\n"), (std::vector<std::string>{"abcd"}));
  EXPECT_FALSE(framer.lineTooLong());
}

TEST(LineFramer, BoundCountsNeitherNewlineNorDroppedCarriageReturnAcrossChunks) {
  LineFramer framer(4);
  EXPECT_TRUE(framed(framer, "abcd\r").empty());
  EXPECT_FALSE(framer.lineTooLong());
  EXPECT_EQ(framed(framer, "\n"), (std::vector<std::string>{"abcd"}));
}

TEST(LineFramer, LongerLineStopsTheFramerInOneChunk) {
  LineFramer framer(4);
  std::vector<std::string> lines;
  framer.feed("ok\nabcde\nnext\n", [&](std::string_view line) {
    lines.emplace_back(line);
    return true;
  });
  EXPECT_EQ(lines, (std::vector<std::string>{"ok"}));
  EXPECT_TRUE(framer.lineTooLong());
}

TEST(LineFramer, LongerLineIsCaughtBeforeItsNewlineArrives) {
  LineFramer framer(4);
  EXPECT_TRUE(framed(framer, "abc").empty());
  EXPECT_TRUE(framed(framer, "de").empty());
  EXPECT_TRUE(framer.lineTooLong());
  EXPECT_LE(framer.buffered(), 5u);
}

TEST(LineFramer, CarriageReturnPastTheBoundThatIsNotFollowedByNewlineIsTooLong) {
  LineFramer framer(4);
  EXPECT_TRUE(framed(framer, "abcd\r").empty());
  EXPECT_TRUE(framed(framer, "x").empty());
  EXPECT_TRUE(framer.lineTooLong());
}

TEST(LineFramer, NeverBuffersMoreThanTheBoundPlusOne) {
  LineFramer framer(10);
  for (int i = 0; i < 100 && !framer.lineTooLong(); ++i) {
    framed(framer, "xyz");
    EXPECT_LE(framer.buffered(), 11u);
  }
  EXPECT_TRUE(framer.lineTooLong());
}

TEST(LineFramer, StopsWhenTheCallbackSaysSo) {
  LineFramer framer(100);
  int calls = 0;
  const auto consumed = framer.feed("a\nb\nc\n", [&](std::string_view) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(consumed, 4u);
}

TEST(LineFramer, FinishGivesTheUnterminatedRest) {
  LineFramer framer(100);
  framed(framer, "a\nrest\r");
  const auto rest = framer.finish();
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(*rest, "rest");
  LineFramer empty(100);
  EXPECT_FALSE(empty.finish().has_value());
}

}  // namespace
}  // namespace echod
