// Faults on demand over loopback (docs/protocol.md, "Faults on demand"): a
// reply's delay and order, chunks, reset, close, hang, the share drawn per
// connection and who telling it, the console's view, the counters, the
// start-up line and bad values. Times are checked from the side that cannot
// be early: a reply can only come later than its delay, never sooner, and the
// upper bounds come from tests/support/Deadlines.h.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include "ChildProcess.h"
#include "Deadlines.h"
#include "InProcessServer.h"
#include "TestClient.h"

namespace echod {
namespace {

using test::ChildProcess;
using test::InProcessServer;
using test::TestClient;
using Clock = std::chrono::steady_clock;
using Fault = ServerMetrics::Fault;

std::int64_t msSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

ServerSettings withFaults(const FaultOptions& faults) {
  ServerSettings s = test::testSettings();
  s.faults = faults;
  return s;
}

std::uint64_t counted(InProcessServer& server, Fault fault) {
  return server.server().metrics().faults[static_cast<std::size_t>(fault)].load();
}

FaultOptions delay(std::int64_t low, std::int64_t high) {
  FaultOptions f;
  f.delayMinMs = low;
  f.delayMaxMs = high;
  return f;
}

FaultOptions fault(FaultKind kind, std::uint64_t after) {
  FaultOptions f;
  f.fault = kind;
  f.faultAfter = after;
  return f;
}

TEST(ServerFaultsOnDemand, NoReplyIsSentBeforeItsDelayAndOrderIsKept) {
  InProcessServer server(withFaults(delay(300, 300)));
  TestClient client(server.port());
  const auto sent = Clock::now();
  client.send("a\nb\nexit\n");  // one read: each reply held 300 ms from its arrival, FIN too
  EXPECT_EQ(client.readLine(), "echo : a\n");
  EXPECT_GE(msSince(sent), 300);
  EXPECT_EQ(client.readLine(), "echo : b\n");
  EXPECT_EQ(client.readAll(), "FIN\n");
  EXPECT_GE(msSince(sent), 300);
  EXPECT_EQ(counted(server, Fault::Delay), 3u);
}

TEST(ServerFaultsOnDemand, ARangeDrawsEachRepliesDelayWithinIt) {
  InProcessServer server(withFaults(delay(100, 200)));
  TestClient client(server.port());
  for (int i = 0; i < 5; ++i) {
    const auto sent = Clock::now();
    client.send("m" + std::to_string(i) + "\n");
    EXPECT_EQ(client.readLine(), "echo : m" + std::to_string(i) + "\n");
    const auto took = msSince(sent);
    EXPECT_GE(took, 100);
    EXPECT_LE(took, test::latestSeenMs(200));
  }
}

TEST(ServerFaultsOnDemand, ADelayHoldsOnlyItsOwnConnectionAndTheConsoleShowsItsThreadBusy) {
  // Two clients, two held replies at once: two threads each busy with its own,
  // seen on the server's side (the console's view), not by timing.
  InProcessServer server(withFaults(delay(2000, 2000)));
  TestClient first(server.port());
  TestClient second(server.port());
  first.send("one\n");
  second.send("two\n");
  const auto bothDelaying = [&] {
    std::size_t total = 0;
    const auto views = server.server().registry().snapshot(10, total);
    int delaying = 0;
    for (const auto& v : views) delaying += std::string(v.state) == "delaying" && v.faults ? 1 : 0;
    return delaying == 2;
  };
  EXPECT_TRUE(test::eventually(bothDelaying));
  EXPECT_EQ(first.readLine(), "echo : one\n");
  EXPECT_EQ(second.readLine(), "echo : two\n");
}

TEST(ServerFaultsOnDemand, RepliesAreWrittenInChunksWithTheIntervalBetween) {
  FaultOptions f;
  f.chunk = 4;
  f.chunkIntervalMs = 100;
  InProcessServer server(withFaults(f));
  TestClient client(server.port());
  const auto sent = Clock::now();
  client.send("hello\n");
  EXPECT_EQ(client.readLine(), "echo : hello\n");  // 13 bytes: four writes, three intervals
  EXPECT_GE(msSince(sent), 300);
  EXPECT_EQ(counted(server, Fault::Chunk), 1u);
  client.send("exit\n");
  EXPECT_EQ(client.readAll(), "FIN\n");  // four bytes: one write
  EXPECT_EQ(counted(server, Fault::Chunk), 1u);
}

TEST(ServerFaultsOnDemand, ResetAbortsTheConnectionInPlaceOfTheReply) {
  InProcessServer server(withFaults(fault(FaultKind::Reset, 1)));
  TestClient client(server.port());
  client.send("one\n");
  EXPECT_EQ(client.readLine(), "echo : one\n");
  client.send("two\n");
  bool closed = false;
  EXPECT_EQ(client.readUntilClosed(closed), "");
  EXPECT_TRUE(client.wasReset());
  EXPECT_EQ(counted(server, Fault::Reset), 1u);
}

TEST(ServerFaultsOnDemand, CloseEndsWithAFinAndNoWord) {
  InProcessServer server(withFaults(fault(FaultKind::Close, 0)));
  TestClient client(server.port());
  client.send("one\ntwo\n");
  EXPECT_EQ(client.readAll(), "");  // closed, not reset (readAll checks both)
  EXPECT_EQ(counted(server, Fault::Close), 1u);
}

TEST(ServerFaultsOnDemand, HangReadsOnButNeverAnswersUntilTheIdleTimeoutClosesWithNoWord) {
  ServerSettings settings = withFaults(fault(FaultKind::Hang, 1));
  settings.idleTimeout = Poco::Timespan(1, 0);
  InProcessServer server(settings);
  TestClient client(server.port());
  client.send("one\n");
  EXPECT_EQ(client.readLine(), "echo : one\n");
  const auto lastReply = Clock::now();
  client.send("two\nexit\n");  // read, never answered: not even exit
  client.send(std::string(100000, 'x'));
  bool closed = false;
  EXPECT_EQ(client.readUntilClosed(closed, Poco::Timespan(test::latestSeenMs(1000) * 1000)), "");
  EXPECT_TRUE(closed);
  EXPECT_FALSE(client.wasReset());
  // The idle timeout counts from the last complete message, which the server saw before this client got its reply.
  EXPECT_GE(msSince(lastReply), 1000 - CoarseClock::marginMs());
  EXPECT_EQ(counted(server, Fault::Hang), 1u);
  EXPECT_TRUE(test::eventually([&] { return server.server().metrics().bytesReceived.load() >= 100000 + 13; }));
}

TEST(ServerFaultsOnDemand, TheShareIsDrawnPerConnectionAndWhoTellsIt) {
  // Half the connections drawn: each drawn one says so in who, then closes
  // with no word at `exit` (the fault after one reply); the others say
  // "faults": false and answer FIN.
  FaultOptions f = fault(FaultKind::Close, 1);
  f.sharePercent = 50;
  ServerSettings settings = withFaults(f);
  settings.session.whoCommand = "who";
  InProcessServer server(settings);
  int drawn = 0;
  constexpr int kConnections = 100;
  for (int i = 0; i < kConnections; ++i) {
    TestClient client(server.port());
    client.send("who\nexit\n");
    Poco::JSON::Parser parser;
    const auto who = parser.parse(client.readLine()).extract<Poco::JSON::Object::Ptr>();
    const bool faults = who->getValue<bool>("faults");
    EXPECT_EQ(client.readAll(), faults ? "" : "FIN\n") << "connection " << i;
    drawn += faults ? 1 : 0;
  }
  // Binomial(100, 0.5): outside 20..80 once in about 10^9 runs.
  EXPECT_GE(drawn, 20);
  EXPECT_LE(drawn, 80);
  EXPECT_EQ(counted(server, Fault::Close), static_cast<std::uint64_t>(drawn));
}

TEST(ServerFaultsOnDemand, AShareOfZeroDrawsNoConnection) {
  FaultOptions f = fault(FaultKind::Reset, 0);
  f.sharePercent = 0;
  InProcessServer server(withFaults(f));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(test::roundTrip(server.port(), "safe"), "echo : safe\n");
  EXPECT_EQ(counted(server, Fault::Reset), 0u);
}

TEST(ServerFaultsOnDemand, WhoSaysFalseWhenNoFaultIsSet) {
  ServerSettings settings = test::testSettings();
  settings.session.whoCommand = "who";
  InProcessServer server(settings);
  TestClient client(server.port());
  client.send("who\n");
  Poco::JSON::Parser parser;
  EXPECT_FALSE(parser.parse(client.readLine()).extract<Poco::JSON::Object::Ptr>()->getValue<bool>("faults"));
}

TEST(ServerFaultsOnDemand, TheStartupLogStatesTheFaultsInOneLine) {
  ChildProcess server(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0", "--reply-delay=100-300", "--reply-chunk=4",
                                         "--fault=reset", "--fault-after=3", "--fault-share=50"});
  const auto line = server.waitForStderrLine("faults: ");
  ASSERT_TRUE(line.has_value()) << server.err();
  EXPECT_EQ(*line,
            "reply delay 100-300 ms, replies in 4-byte chunks every 100 ms, reset after 3 replies, on 50 % of "
            "connections");
  server.signal(SIGTERM);
  EXPECT_EQ(server.waitForExit(), 0);
}

TEST(ServerFaultsOnDemand, BadValuesStopStartUpWithExit78) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"--reply-delay=300-100", "echo.replyDelay"},  {"--reply-delay=-5", "echo.replyDelay"},
      {"--reply-delay=fast", "echo.replyDelay"},     {"--fault=explode", "echo.fault"},
      {"--fault-share=101", "echo.faultShare"},      {"--reply-chunk=-1", "echo.replyChunk"},
      {"--admin-control=maybe", "echo.adminControl"}};
  for (const auto& [option, key] : bad) {
    ChildProcess server(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0", option});
    EXPECT_EQ(server.waitForExit(), 78) << option;
    EXPECT_NE(server.err().find(key), std::string::npos) << option << ": " << server.err();
  }
}

}  // namespace
}  // namespace echod
