#include <gtest/gtest.h>

#include <string>

#include "SessionDriver.h"
#include "protocol/EchoSession.h"

namespace echod {
namespace {

using test::converse;
using test::splits;

SessionOptions lineOptions(std::size_t maxLineLength = 65536) {
  SessionOptions o;
  o.maxLineLength = maxLineLength;
  return o;
}

SessionOptions rawOptions() {
  SessionOptions o;
  o.framing = Framing::Raw;
  return o;
}

/// The rule holds however the input is cut into reads.
void expectLineReplies(std::string_view input, std::string_view replies, Verdict verdict,
                       const SessionOptions& options = lineOptions(), bool halfClose = false) {
  for (const auto& pieces : splits(input)) {
    const auto t = converse(options, pieces, halfClose);
    ASSERT_EQ(t.replies, replies) << "split into " << pieces.size() << " pieces";
    ASSERT_EQ(t.verdict, verdict) << "split into " << pieces.size() << " pieces";
  }
}

TEST(EchoSession, EachLineGetsPrefixedEcho) { expectLineReplies("hello\n", "echo : hello\n", Verdict::Continue); }

TEST(EchoSession, CarriageReturnBeforeNewlineIsDropped) {
  expectLineReplies("hello\r\nbye\r\n", "echo : hello\necho : bye\n", Verdict::Continue);
}

TEST(EchoSession, OnlyOneCarriageReturnIsDropped) { expectLineReplies("a\r\r\n", "echo : a\r\n", Verdict::Continue); }

TEST(EchoSession, EmptyLineGetsEmptyEcho) { expectLineReplies("\n", "echo : \n", Verdict::Continue); }

TEST(EchoSession, EveryByteButNewlineIsData) {
  const std::string input("a\0b\xff\xc3\x28\tz\rq\n", 11);
  const std::string replies = "echo : " + std::string("a\0b\xff\xc3\x28\tz\rq", 10) + "\n";
  expectLineReplies(input, replies, Verdict::Continue);
}

TEST(EchoSession, PipelinedLinesAreAnsweredInOrder) {
  std::string input;
  std::string replies;
  for (int i = 0; i < 10000; ++i) {
    input += "line " + std::to_string(i) + "\n";
    replies += "echo : line " + std::to_string(i) + "\n";
  }
  const auto whole = converse(lineOptions(), {input});
  EXPECT_EQ(whole.replies, replies);
  const auto bytes = splits(input)[1];
  EXPECT_EQ(converse(lineOptions(), bytes).replies, replies);
}

TEST(EchoSession, ExitRepliesFinAndNothingAfterIsEchoed) {
  expectLineReplies("a\nexit\nb\n", "echo : a\nFIN\n", Verdict::Fin);
}

TEST(EchoSession, ExitWithCarriageReturnRepliesFin) { expectLineReplies("exit\r\n", "FIN\n", Verdict::Fin); }

TEST(EchoSession, OnlyExactExitEnds) {
  expectLineReplies("EXIT\nexit \n exit\nexitx\n", "echo : EXIT\necho : exit \necho :  exit\necho : exitx\n",
                    Verdict::Continue);
}

TEST(EchoSession, HalfCloseEchoesUnterminatedLastLine) {
  expectLineReplies("a\nlast", "echo : a\necho : last\n", Verdict::Continue, lineOptions(), true);
}

TEST(EchoSession, HalfCloseAfterCompleteLinesAddsNothing) {
  expectLineReplies("a\n", "echo : a\n", Verdict::Continue, lineOptions(), true);
}

TEST(EchoSession, HalfCloseWithUnterminatedExitRepliesFin) {
  expectLineReplies("exit", "FIN\n", Verdict::Fin, lineOptions(), true);
}

TEST(EchoSession, LineOfExactlyMaxLengthIsEchoed) {
  expectLineReplies("12345678\n", "echo : 12345678\n", Verdict::Continue, lineOptions(8));
}

TEST(EchoSession, LongerLineGetsErrorAfterEarlierReplies) {
  expectLineReplies("ok\n123456789\nnever\n", "echo : ok\nERR line too long\n", Verdict::Error, lineOptions(8));
}

TEST(EchoSession, LongerLineWithoutNewlineGetsErrorAsSoonAsItIsTooLong) {
  EchoSession session(lineOptions(8));
  std::string out;
  session.feed("12345678", out);
  EXPECT_EQ(out, "");
  EXPECT_EQ(session.verdict(), Verdict::Continue);
  session.feed("9", out);
  EXPECT_EQ(out, "ERR line too long\n");
  EXPECT_EQ(session.verdict(), Verdict::Error);
}

TEST(EchoSession, PrefixIsConfigurable) {
  SessionOptions o = lineOptions();
  o.prefix = ">> ";
  expectLineReplies("x\n", ">> x\n", Verdict::Continue, o);
}

TEST(EchoSession, OutputLimitPausesWithoutLosingAnything) {
  EchoSession session(lineOptions());
  std::string input;
  for (int i = 0; i < 100; ++i) input += "0123456789\n";
  std::string all;
  std::string_view rest = input;
  int calls = 0;
  while (!rest.empty()) {
    std::string out;
    rest.remove_prefix(session.feed(rest, out, 40));
    EXPECT_LT(out.size(), 40u + 18u);  // stops after the reply that crossed the limit
    all += out;
    ++calls;
  }
  EXPECT_GT(calls, 10);
  EXPECT_EQ(all, converse(lineOptions(), {input}).replies);
}

TEST(EchoSession, ShutdownSendsFinLine) {
  EchoSession session(lineOptions());
  std::string out;
  session.feed("a\npartial", out);
  session.shutdown(out);
  EXPECT_EQ(out, "echo : a\nFIN\n");
  EXPECT_EQ(session.verdict(), Verdict::Fin);
}

TEST(EchoSession, FailSendsTheErrorLineOnceAndStops) {
  EchoSession session(lineOptions());
  std::string out;
  session.fail(ErrorReason::IdleTimeout, out);
  session.fail(ErrorReason::ShuttingDown, out);
  session.shutdown(out);
  EXPECT_EQ(session.feed("more\n", out), 0u);
  EXPECT_EQ(out, "ERR idle timeout\n");
  EXPECT_EQ(session.verdict(), Verdict::Error);
}

TEST(EchoSession, ErrorRepliesAreExact) {
  EXPECT_EQ(errorReply(ErrorReason::LineTooLong), "ERR line too long\n");
  EXPECT_EQ(errorReply(ErrorReason::IdleTimeout), "ERR idle timeout\n");
  EXPECT_EQ(errorReply(ErrorReason::ServerBusy), "ERR server busy\n");
  EXPECT_EQ(errorReply(ErrorReason::TooManyConnections), "ERR too many connections\n");
  EXPECT_EQ(errorReply(ErrorReason::ShuttingDown), "ERR shutting down\n");
  EXPECT_EQ(reasonText(ErrorReason::ServerBusy), "server busy");
}

TEST(EchoSessionRaw, EachChunkIsEchoedWithoutNewline) {
  const auto t = converse(rawOptions(), {"bonjour", "a\nb"});
  EXPECT_EQ(t.replies, "echo : bonjourecho : a\nb");
  EXPECT_EQ(t.verdict, Verdict::Continue);
}

TEST(EchoSessionRaw, ExitChunkGetsBareFin) {
  for (std::string_view exit : {"exit", "exit\n", "exit\r\n"}) {
    const auto t = converse(rawOptions(), {"hi", exit});
    EXPECT_EQ(t.replies, "echo : hiFIN") << exit;
    EXPECT_EQ(t.verdict, Verdict::Fin);
  }
}

TEST(EchoSessionRaw, ExitInsideALargerChunkIsEchoed) {
  const auto t = converse(rawOptions(), {"exit\nmore"});
  EXPECT_EQ(t.replies, "echo : exit\nmore");
  EXPECT_EQ(t.verdict, Verdict::Continue);
}

TEST(EchoSessionRaw, ChunksOver1024BytesAreCutIntoMessages) {
  const std::string big(1500, 'z');
  const auto t = converse(rawOptions(), {big});
  EXPECT_EQ(t.replies, "echo : " + std::string(1024, 'z') + "echo : " + std::string(476, 'z'));
}

TEST(EchoSessionRaw, ShutdownSendsBareFinAndHalfCloseSendsNothing) {
  EchoSession session(rawOptions());
  std::string out;
  session.endOfInput(out);
  EXPECT_EQ(out, "");
  session.shutdown(out);
  EXPECT_EQ(out, "FIN");
}

TEST(EchoSessionRaw, ClassroomClientExchange) {
  // The classroom client sends typed text without newline and stops on a chunk equal to FIN.
  EchoSession session(rawOptions());
  std::string out;
  session.feed("Bonjour", out);
  EXPECT_EQ(out, "echo : Bonjour");
  out.clear();
  session.feed("exit", out);
  EXPECT_EQ(out, "FIN");
}

}  // namespace
}  // namespace echod

namespace echod {
namespace {

TEST(EchoSessionCounters, CountEchoesAndRememberTheErrorReason) {
  SessionOptions options;
  options.maxLineLength = 4;
  EchoSession session(options);
  std::string out;
  session.feed("a\nb\n\ntoolong\n", out);
  EXPECT_EQ(session.echoed(), 3u);
  EXPECT_EQ(session.verdict(), Verdict::Error);
  EXPECT_EQ(session.error(), ErrorReason::LineTooLong);
  EchoSession idle(options);
  idle.fail(ErrorReason::IdleTimeout, out);
  EXPECT_EQ(idle.error(), ErrorReason::IdleTimeout);
  EXPECT_EQ(idle.echoed(), 0u);
}

}  // namespace
}  // namespace echod

namespace echod {
namespace {

TEST(EchoSessionWho, TheWhoCommandGetsTheWhoReplyAndTheConnectionGoesOn) {
  SessionOptions options;
  options.whoCommand = "who";
  EchoSession session(options);
  session.setWhoReply(R"({"hostname":"a"})");
  std::string out;
  session.feed("who\r\nwho?\nwho\nexit\n", out);
  EXPECT_EQ(out, "{\"hostname\":\"a\"}\necho : who?\n{\"hostname\":\"a\"}\nFIN\n");
  EXPECT_EQ(session.echoed(), 3u);
}

TEST(EchoSessionWho, OffTheWhoCommandIsEchoedLikeAnyLine) {
  EchoSession session(SessionOptions{});
  session.setWhoReply("{}");
  std::string out;
  session.feed("who\n", out);
  EXPECT_EQ(out, "echo : who\n");
}

TEST(EchoSessionWho, RawFramingAnswersAWhoChunkWithoutANewline) {
  SessionOptions options;
  options.framing = Framing::Raw;
  options.whoCommand = "who";
  EchoSession session(options);
  session.setWhoReply("{}");
  std::string out;
  session.feed("who\r\n", out);
  session.feed("who", out);
  session.feed("who!", out);
  EXPECT_EQ(out, "{}{}echo : who!");
}

TEST(EchoSessionWho, APrefixSetForTheConnectionIsUsed) {
  EchoSession session(SessionOptions{});
  session.setPrefix("replica-1: ");
  std::string out;
  session.feed("x\n", out);
  EXPECT_EQ(out, "replica-1: x\n");
}

}  // namespace

// echo.maxMessagesPerConnection: the Nth answer, then FIN, as after exit.
TEST(EchoSession, AfterItsLastMessageTheSessionSendsFinAndAnswersNoMore) {
  SessionOptions o = lineOptions();
  o.maxMessages = 2;
  expectLineReplies("one\ntwo\nthree\n", "echo : one\necho : two\nFIN\n", Verdict::Fin, o);
  expectLineReplies("one\n", "echo : one\n", Verdict::Continue, o);
  EchoSession session(o);
  std::string out;
  session.feed("a\nb\nc\n", out);
  EXPECT_TRUE(session.messageLimitReached());
  EXPECT_EQ(session.echoed(), 2u);
}

TEST(EchoSession, TheWhoCommandCountsAsAMessageTowardTheLimit) {
  SessionOptions o = lineOptions();
  o.maxMessages = 1;
  o.whoCommand = "who";
  EchoSession session(o);
  session.setWhoReply("{}");
  std::string out;
  session.feed("who\nlater\n", out);
  EXPECT_EQ(out, "{}\nFIN\n");
  EXPECT_EQ(session.verdict(), Verdict::Fin);
}

TEST(EchoSession, ExitBeforeTheLimitIsAnOrdinaryFin) {
  SessionOptions o = lineOptions();
  o.maxMessages = 5;
  EchoSession session(o);
  std::string out;
  session.feed("a\nexit\n", out);
  EXPECT_EQ(out, "echo : a\nFIN\n");
  EXPECT_FALSE(session.messageLimitReached());
}

TEST(EchoSession, RawFramingEndsItsLastAnswerWithTheThreeByteFin) {
  SessionOptions o = rawOptions();
  o.maxMessages = 1;
  EchoSession session(o);
  std::string out;
  session.feed("Bonjour", out);
  EXPECT_EQ(out, "echo : BonjourFIN");
  EXPECT_EQ(session.verdict(), Verdict::Fin);
}

TEST(EchoSession, AHalfClosedLastLineThatReachesTheLimitGetsFin) {
  SessionOptions o = lineOptions();
  o.maxMessages = 2;
  expectLineReplies("one\ntwo", "echo : one\necho : two\nFIN\n", Verdict::Fin, o, true);
}

/// A who answer asked at each who, as the server's TCP_INFO is.
class CountingWho : public WhoSource {
 public:
  std::string whoReply() override { return "{\"n\":" + std::to_string(++_asked) + "}"; }

 private:
  int _asked = 0;
};

TEST(EchoSession, AWhoSourceIsAskedAtEachWhoAndOnlyThen) {
  SessionOptions o = lineOptions();
  o.whoCommand = "who";
  CountingWho source;
  EchoSession session(o);
  session.setWhoSource(&source);
  std::string out;
  session.feed("who\nx\nwho\n", out);
  EXPECT_EQ(out, "{\"n\":1}\necho : x\n{\"n\":2}\n");
}

}  // namespace echod
