#include "protocol/ReplyReader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "SessionDriver.h"

namespace echod::test {
namespace {

/// Everything a reader made of `pieces`: one "<kind>:<text>" per reply, then how it ended.
struct Decoded {
  std::vector<std::string> replies;
  ReplyReader::End end = ReplyReader::End::Open;
  std::string reason;
};

std::string kindName(Reply::Kind kind) {
  switch (kind) {
    case Reply::Kind::Echo:
      return "echo";
    case Reply::Kind::Fin:
      return "fin";
    case Reply::Kind::Error:
      return "err";
    case Reply::Kind::Other:
      return "other";
  }
  return "?";
}

Decoded decode(Framing framing, const std::vector<std::string_view>& pieces, bool close = true,
               const std::vector<std::string>& expected = {}, std::size_t max = 64) {
  ReplyReader reader(framing, "echo : ", max);
  Decoded d;
  std::size_t next = 0;
  if (next < expected.size()) reader.expect(expected[next++]);
  const auto note = [&](const Reply& r) {
    d.replies.push_back(kindName(r.kind) + ":" + std::string(r.text));
    if (r.kind == Reply::Kind::Echo && next < expected.size()) reader.expect(expected[next++]);
    return true;
  };
  for (auto piece : pieces) reader.feed(piece, note);
  d.end = close ? reader.finish(note) : reader.end();
  d.reason = reader.errorReason();
  return d;
}

using Strings = std::vector<std::string>;

TEST(ReplyReader, LineRepliesWholeByteByByteAndInRandomSplits) {
  const std::string bytes = "echo : hello\r\necho : \necho : a b\nFIN\necho : after fin\n";
  for (const auto& pieces : splits(bytes)) {
    const Decoded d = decode(Framing::Line, pieces);
    EXPECT_EQ(d.replies, (Strings{"echo:hello", "echo:", "echo:a b", "fin:FIN"}));
    EXPECT_EQ(d.end, ReplyReader::End::Fin);
  }
}

TEST(ReplyReader, LineErrorCarriesItsReasonAndEndsTheStream) {
  for (const auto& pieces : splits("echo : one\nERR line too long\necho : never\n")) {
    const Decoded d = decode(Framing::Line, pieces);
    EXPECT_EQ(d.replies, (Strings{"echo:one", "err:line too long"}));
    EXPECT_EQ(d.end, ReplyReader::End::Error);
    EXPECT_EQ(d.reason, "line too long");
  }
}

TEST(ReplyReader, LineForeignPrefixIsOtherNotEcho) {
  const Decoded d = decode(Framing::Line, {"pong: x\nFINAL\nERR\n"});
  EXPECT_EQ(d.replies, (Strings{"other:pong: x", "other:FINAL", "other:ERR"}));
  EXPECT_EQ(d.end, ReplyReader::End::Closed);
}

TEST(ReplyReader, LineCloseWithoutFinIsClosedAndMidLineIsBroken) {
  EXPECT_EQ(decode(Framing::Line, {"echo : a\n"}).end, ReplyReader::End::Closed);
  const Decoded cut = decode(Framing::Line, {"echo : a\necho : b"});
  EXPECT_EQ(cut.replies, (Strings{"echo:a", "echo:b"}));
  EXPECT_EQ(cut.end, ReplyReader::End::Broken);
  EXPECT_EQ(decode(Framing::Line, {"echo : a\n"}, false).end, ReplyReader::End::Open);
}

TEST(ReplyReader, LineLongerThanTheBoundBreaksWithoutBuffering) {
  ReplyReader reader(Framing::Line, "echo : ", 16);
  int replies = 0;
  reader.feed(std::string(17, 'x'), [&](const Reply&) { return ++replies, true; });
  EXPECT_EQ(reader.end(), ReplyReader::End::Broken);
  EXPECT_EQ(replies, 0);
  EXPECT_EQ(reader.feed("\n", [&](const Reply&) { return ++replies, true; }), 0u);
}

TEST(ReplyReader, LineStopsWhenTheCallerSaysSo) {
  ReplyReader reader(Framing::Line, "echo : ", 64);
  int replies = 0;
  const std::string bytes = "echo : a\necho : b\n";
  const std::size_t used = reader.feed(bytes, [&](const Reply&) { return ++replies, false; });
  EXPECT_EQ(replies, 1);
  EXPECT_EQ(used, 9u);
  reader.feed(std::string_view(bytes).substr(used), [&](const Reply& r) {
    EXPECT_EQ(r.text, "b");
    return ++replies, true;
  });
  EXPECT_EQ(replies, 2);
}

TEST(ReplyReader, RawEchoesMatchTheAwaitedMessagesInAnySplit) {
  const std::string bytes = "echo : helloecho : worldFIN";
  for (const auto& pieces : splits(bytes)) {
    const Decoded d = decode(Framing::Raw, pieces, true, {"hello", "world"});
    EXPECT_EQ(d.replies, (Strings{"echo:hello", "echo:world", "fin:FIN"}));
    EXPECT_EQ(d.end, ReplyReader::End::Fin);
  }
}

TEST(ReplyReader, RawErrorLineAndFinWithoutAnAwaitedEcho) {
  for (const auto& pieces : splits("ERR shutting down\n")) {
    const Decoded d = decode(Framing::Raw, pieces);
    EXPECT_EQ(d.replies, (Strings{"err:shutting down"}));
    EXPECT_EQ(d.end, ReplyReader::End::Error);
  }
  EXPECT_EQ(decode(Framing::Raw, {"F", "I", "N"}).end, ReplyReader::End::Fin);
  // The server shuts down while an echo is awaited: FIN instead of the echo.
  EXPECT_EQ(decode(Framing::Raw, {"FIN"}, true, {"hello"}).end, ReplyReader::End::Fin);
}

TEST(ReplyReader, RawWrongEchoIsOtherAndClosesBroken) {
  const Decoded wrong = decode(Framing::Raw, {"echo : hellp"}, true, {"hello"});
  EXPECT_EQ(wrong.replies, (Strings{"other:echo : hellp"}));
  EXPECT_EQ(wrong.end, ReplyReader::End::Closed);
  const Decoded cut = decode(Framing::Raw, {"echo : hel"}, true, {"hello"});
  EXPECT_EQ(cut.replies, (Strings{"other:echo : hel"}));
  EXPECT_EQ(cut.end, ReplyReader::End::Broken);
}

TEST(ReplyReader, RawHoldsAtMostTheBound) {
  ReplyReader reader(Framing::Raw, "echo : ", 32);
  reader.feed("ERR " + std::string(40, 'x'), [](const Reply&) { return true; });
  EXPECT_EQ(reader.end(), ReplyReader::End::Broken);
}

TEST(ReplyReader, DecodesWhatTheServerSessionAnswers) {
  SessionOptions options;
  options.maxLineLength = 32;
  const std::string input = "a\r\n\nlonger line here\nexit\nignored\n";
  const Transcript t = converse(options, {input});
  for (const auto& pieces : splits(t.replies)) {
    const Decoded d = decode(Framing::Line, pieces, true, {}, options.prefix.size() + options.maxLineLength);
    EXPECT_EQ(d.replies, (Strings{"echo:a", "echo:", "echo:longer line here", "fin:FIN"}));
  }
}

}  // namespace
}  // namespace echod::test
