// The echo-client binary against a real server on loopback: exit codes,
// piped input, --send, --check, raw framing, server-initiated FIN, --bench.
#include <gtest/gtest.h>

#include <Poco/Environment.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Stopwatch.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <memory>
#include <string>
#include <thread>

#include "ChildProcess.h"
#include "Deadlines.h"
#include "Haproxy.h"
#include "InProcessServer.h"
#include "TestClient.h"

namespace echod {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;
using test::InProcessServer;
using test::testSettings;

std::vector<std::string> clientArgs(std::uint16_t port, std::vector<std::string> more) {
  more.insert(more.begin(), "--port=" + std::to_string(port));
  return more;
}

/// A loopback port that is bound but not listening: connects are refused, and
/// no other test can take the port while this object lives.
class RefusingPort {
 public:
  RefusingPort() : _fd(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (_fd < 0 || ::bind(_fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::getsockname(_fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      ADD_FAILURE() << "cannot reserve a port";
    }
    _port = ntohs(address.sin_port);
  }
  ~RefusingPort() { ::close(_fd); }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  std::uint16_t port() const { return _port; }

 private:
  int _fd;
  std::uint16_t _port = 0;
};

TEST(ClientProcess, PipedInputPrintsEveryReplyThenExitsZero) {
  InProcessServer server;
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(server.port(), {}));
  client.writeStdin("a\nb\nlast without newline");
  client.closeStdin();
  EXPECT_EQ(client.waitForExit(), 0) << client.err();
  EXPECT_EQ(client.out(), "echo : a\necho : b\necho : last without newline\n");
  EXPECT_NE(client.err().find("connected to 127.0.0.1:"), std::string::npos);
  EXPECT_NE(client.err().find("connection closed by server"), std::string::npos);
}

TEST(ClientProcess, SendPrintsRepliesAndFinThenExitsZero) {
  InProcessServer server;
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--send=hello", "--send=big world"}));
  EXPECT_EQ(client.waitForExit(), 0) << client.err();
  EXPECT_EQ(client.out(), "echo : hello\necho : big world\nFIN\n");
}

TEST(ClientProcess, ErrReplyExitsOne) {
  auto settings = testSettings();
  settings.session.maxLineLength = 4;
  InProcessServer server(settings);
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--send=toolong"}));
  EXPECT_EQ(client.waitForExit(), 1);
  EXPECT_EQ(client.out(), "ERR line too long\n");
  EXPECT_NE(client.err().find("line too long"), std::string::npos);
}

TEST(ClientProcess, NoServerExitsTwoWithTheReason) {
  RefusingPort nobody;
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(nobody.port(), {"--send=x"}));
  EXPECT_EQ(client.waitForExit(), 2);
  EXPECT_NE(client.err().find("cannot connect to 127.0.0.1:"), std::string::npos) << client.err();
  EXPECT_NE(client.err().find("refused"), std::string::npos) << client.err();
}

TEST(ClientProcess, RawFramingTalksTheClassroomProtocol) {
  auto settings = testSettings();
  settings.session.framing = Framing::Raw;
  InProcessServer server(settings);
  ChildProcess client(ECHO_CLIENT_PATH,
                      clientArgs(server.port(), {"--framing=raw", "--send=Bonjour", "--send=encore"}));
  EXPECT_EQ(client.waitForExit(), 0) << client.err();
  EXPECT_EQ(client.out(), "echo : Bonjourecho : encoreFIN\n");
}

TEST(ClientProcess, ServerFinReachesAnIdleInteractiveClientWithinOneSecond) {
  InProcessServer server;
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(server.port(), {}));
  client.writeStdin("typed\n");
  ASSERT_TRUE(client.waitForStdout("echo : typed\n"));
  // stdin stays open: the user is not typing. The server shuts down.
  auto stopped = std::async(std::launch::async, [&] { return server.server().shutdown(); });
  const auto status = client.waitForExit(1000ms);
  ASSERT_TRUE(status.has_value()) << "the client still waits for input after the server's FIN";
  EXPECT_EQ(*status, 0);
  EXPECT_EQ(client.out(), "echo : typed\nFIN\n");
  EXPECT_TRUE(stopped.get());
}

TEST(ClientProcess, CheckPassesAgainstAHealthyServer) {
  InProcessServer server;
  ChildProcess check(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--check"}));
  EXPECT_EQ(check.waitForExit(), 0);
  EXPECT_EQ(check.out().rfind("ok: 127.0.0.1:", 0), 0u) << check.out();
}

TEST(ClientProcess, CheckFailsAgainstAServerThatAnswersWrong) {
  auto settings = testSettings();
  settings.session.prefix = "not an echo: ";
  InProcessServer server(settings);
  ChildProcess check(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--check"}));
  EXPECT_EQ(check.waitForExit(), 1);
  EXPECT_EQ(check.out().rfind("fail: ", 0), 0u) << check.out();
}

TEST(ClientProcess, CheckFailsWithoutAServerWithinItsTimeout) {
  RefusingPort nobody;
  ChildProcess check(ECHO_CLIENT_PATH, clientArgs(nobody.port(), {"--check", "--timeout=1"}));
  EXPECT_EQ(check.waitForExit(3s), 1);
  EXPECT_EQ(check.out().rfind("fail: ", 0), 0u) << check.out();
}

TEST(ClientProcess, CheckInRawFraming) {
  auto settings = testSettings();
  settings.session.framing = Framing::Raw;
  InProcessServer server(settings);
  ChildProcess check(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--check", "--framing=raw"}));
  EXPECT_EQ(check.waitForExit(), 0) << check.out();
}

Poco::JSON::Object::Ptr benchJson(const ChildProcess& bench) {
  Poco::JSON::Parser parser;
  return parser.parse(bench.out()).extract<Poco::JSON::Object::Ptr>();
}

TEST(ClientProcess, BenchCountsEveryVerifiedReply) {
  InProcessServer server;
  ChildProcess bench(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--bench", "--connections=8", "--messages=500",
                                                                  "--pipeline=4", "--size=32", "--json"}));
  ASSERT_EQ(bench.waitForExit(60s), 0) << bench.out() << bench.err();
  const auto result = benchJson(bench);
  EXPECT_EQ(result->getValue<int>("connections"), 8);
  EXPECT_EQ(result->getValue<std::uint64_t>("messages"), 8u * 500u);
  EXPECT_EQ(result->getValue<std::uint64_t>("errors"), 0u);
  const auto latency = result->getObject("latency_us");
  EXPECT_GT(latency->getValue<double>("p50"), 0.0);
  EXPECT_LE(latency->getValue<double>("p50"), latency->getValue<double>("p99"));
  EXPECT_LE(latency->getValue<double>("p99"), latency->getValue<double>("max"));
}

TEST(ClientProcess, BenchConnectWorkloadCountsSessions) {
  InProcessServer server;
  ChildProcess bench(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--bench", "--workload=connect", "--connections=4",
                                                                  "--messages=50", "--json"}));
  ASSERT_EQ(bench.waitForExit(60s), 0) << bench.out() << bench.err();
  EXPECT_EQ(benchJson(bench)->getValue<std::uint64_t>("messages"), 200u);
}

TEST(ClientProcess, BenchRateIsNeverExceeded) {
  // --rate paces: a run can only be slower than its rate, never faster, so
  // both bounds hold however slow the machine: 40 messages at 100 a second
  // over 4 connections take at least 9 turns of 40 ms; in a timed run, at
  // most rate x duration + one per connection go out.
  InProcessServer server;
  ChildProcess counted(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--bench", "--connections=4", "--messages=10",
                                                                    "--rate=100", "--json"}));
  ASSERT_EQ(counted.waitForExit(60s), 0) << counted.out() << counted.err();
  EXPECT_EQ(benchJson(counted)->getValue<std::uint64_t>("messages"), 40u);
  EXPECT_GE(benchJson(counted)->getValue<double>("seconds"), 0.36) << counted.out();

  ChildProcess timed(ECHO_CLIENT_PATH,
                     clientArgs(server.port(), {"--bench", "--connections=4", "--duration=1", "--rate=200", "--json"}));
  ASSERT_EQ(timed.waitForExit(60s), 0) << timed.out() << timed.err();
  EXPECT_GT(benchJson(timed)->getValue<std::uint64_t>("messages"), 0u);
  EXPECT_LE(benchJson(timed)->getValue<std::uint64_t>("messages"), 204u) << timed.out();

  ChildProcess storm(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--bench", "--workload=connect", "--connections=2",
                                                                  "--messages=5", "--rate=50", "--json"}));
  ASSERT_EQ(storm.waitForExit(60s), 0) << storm.out() << storm.err();
  EXPECT_EQ(benchJson(storm)->getValue<std::uint64_t>("messages"), 10u);
  EXPECT_GE(benchJson(storm)->getValue<double>("seconds"), 0.16) << storm.out();  // 4 turns of 40 ms
}

TEST(ClientProcess, BenchReportsErrorsAgainstAWrongServer) {
  auto settings = testSettings();
  settings.session.prefix = "wrong: ";
  InProcessServer server(settings);
  ChildProcess bench(ECHO_CLIENT_PATH,
                     clientArgs(server.port(), {"--bench", "--connections=2", "--messages=10", "--json"}));
  EXPECT_EQ(bench.waitForExit(30s), 1);
  EXPECT_EQ(benchJson(bench)->getValue<std::uint64_t>("errors"), 2u);
}

TEST(ClientProcess, BenchInRawFramingAgainstARawServer) {
  auto settings = testSettings();
  settings.session.framing = Framing::Raw;
  InProcessServer server(settings);
  ChildProcess bench(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--bench", "--framing=raw", "--connections=3",
                                                                  "--messages=200", "--size=100", "--json"}));
  ASSERT_EQ(bench.waitForExit(60s), 0) << bench.out() << bench.err();
  EXPECT_EQ(benchJson(bench)->getValue<std::uint64_t>("messages"), 600u);
  EXPECT_EQ(benchJson(bench)->getValue<std::uint64_t>("errors"), 0u);

  ChildProcess storm(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--bench", "--framing=raw", "--workload=connect",
                                                                  "--connections=2", "--messages=20", "--json"}));
  ASSERT_EQ(storm.waitForExit(60s), 0) << storm.out() << storm.err();
  EXPECT_EQ(benchJson(storm)->getValue<std::uint64_t>("messages"), 40u);
}

TEST(ClientProcess, BenchInRawFramingAgainstALineServerReportsErrors) {
  InProcessServer server;
  ChildProcess bench(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--bench", "--framing=raw", "--connections=1",
                                                                  "--messages=5", "--json", "--timeout=0.5"}));
  EXPECT_EQ(bench.waitForExit(30s), 1);
  EXPECT_EQ(benchJson(bench)->getValue<std::uint64_t>("errors"), 1u);
}

TEST(ClientProcess, RawBenchRefusesAPipelineWithAClearMessage) {
  ChildProcess bench(ECHO_CLIENT_PATH, {"--bench", "--framing=raw", "--pipeline=4"});
  EXPECT_EQ(bench.waitForExit(), 64);
  EXPECT_EQ(bench.err(), "echo-client: invalid value '4' for client.pipeline (--pipeline): 1 with --framing=raw\n");
}

TEST(ClientProcess, BenchOptionsWithoutBenchAreWarnedAboutAndIgnored) {
  InProcessServer server;
  // --duration=0 is refused by --bench, but without --bench it is not even read.
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--duration=0", "--connections=10", "--send=a"}));
  EXPECT_EQ(client.waitForExit(), 0) << client.err();
  EXPECT_EQ(client.out(), "echo : a\nFIN\n");
  EXPECT_NE(client.err().find("echo-client: --connections is a --bench option: ignored without --bench\n"),
            std::string::npos)
      << client.err();
  EXPECT_NE(client.err().find("echo-client: --duration is a --bench option: ignored without --bench\n"),
            std::string::npos)
      << client.err();
}

// ---- --who, --spread, --proxy-protocol ----

ServerSettings whoProxySettings() {
  ServerSettings s = testSettings();
  s.session.whoCommand = "who";
  s.proxyPort = 0;
  return s;
}

Poco::JSON::Object::Ptr jsonOf(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

TEST(ClientProcess, WhoPrintsTheServersJsonAndExitsZero) {
  InProcessServer server(whoProxySettings());
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--who"}));
  ASSERT_EQ(client.waitForExit(), 0) << client.err();
  const auto who = jsonOf(client.out());
  EXPECT_EQ(who->getValue<std::string>("listener"), "plain");
  EXPECT_EQ(who->getValue<std::string>("local"), "127.0.0.1:" + std::to_string(server.port()));
}

TEST(ClientProcess, WhoExitsOneWhenTheAnswerIsNotJson) {
  InProcessServer server;  // no who command: the line is echoed
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--who"}));
  EXPECT_EQ(client.waitForExit(), 1);
  EXPECT_EQ(client.out(), "echo : who\n");
  EXPECT_NE(client.err().find("not JSON"), std::string::npos) << client.err();
}

TEST(ClientProcess, ProxyProtocolV1AndV2NameTheClientTheServerSees) {
  InProcessServer server(whoProxySettings());
  const auto port = server.server().proxyAddress().port();
  for (const std::string version : {"v1", "v2"}) {
    ChildProcess client(ECHO_CLIENT_PATH, clientArgs(port, {"--who", "--proxy-protocol=" + version,
                                                            "--proxy-source=[2001:db8::5]:4242"}));
    ASSERT_EQ(client.waitForExit(), 0) << client.err();
    const auto who = jsonOf(client.out());
    EXPECT_EQ(who->getValue<std::string>("client"), "[2001:db8::5]:4242") << version;
    EXPECT_EQ(who->getObject("proxy")->getValue<int>("version"), version == "v1" ? 1 : 2);
  }
  ChildProcess own(ECHO_CLIENT_PATH, clientArgs(port, {"--proxy-protocol=v2", "--send=through"}));
  EXPECT_EQ(own.waitForExit(), 0) << own.err();
  EXPECT_EQ(own.out(), "echo : through\nFIN\n");
}

TEST(ClientProcess, SpreadCountsTheReplicasThatAnswered) {
  InProcessServer server(whoProxySettings());
  ChildProcess json(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--spread=12", "--json"}));
  ASSERT_EQ(json.waitForExit(), 0) << json.err();
  const auto spread = jsonOf(json.out());
  EXPECT_EQ(spread->getValue<int>("connections"), 12);
  EXPECT_EQ(spread->getValue<int>("answered"), 12);
  EXPECT_EQ(spread->getObject("replicas")->getValue<int>(Poco::Environment::nodeName()), 12);
  ChildProcess table(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--spread=3"}));
  ASSERT_EQ(table.waitForExit(), 0) << table.err();
  EXPECT_EQ(table.out().rfind("3 connections, 3 answered, 1 replica\n", 0), 0u) << table.out();
  EXPECT_NE(table.out().find(Poco::Environment::nodeName()), std::string::npos) << table.out();
}

TEST(ClientProcess, SpreadGroupsByVersionOrLabelAndExpectSetsTheExitStatus) {
  ServerSettings settings = whoProxySettings();
  std::string error;
  settings.labels = *parseLabels("track=canary", error);
  settings.serviceVersion = "v2";
  InProcessServer server(settings);
  ChildProcess holds(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--spread=10", "--by=label:track",
                                                                  "--expect=canary:100,stable:0~0", "--json"}));
  ASSERT_EQ(holds.waitForExit(), 0) << holds.err() << holds.out();
  const auto spread = jsonOf(holds.out());
  EXPECT_EQ(spread->getValue<std::string>("by"), "label:track");
  EXPECT_EQ(spread->getObject("replicas")->getValue<int>("canary"), 10);
  const auto bands = spread->getArray("expect");
  ASSERT_EQ(bands->size(), 2u);
  EXPECT_EQ(bands->getObject(0)->getValue<double>("share"), 100);
  EXPECT_TRUE(bands->getObject(0)->getValue<bool>("holds"));
  EXPECT_TRUE(bands->getObject(1)->getValue<bool>("holds"));
  ChildProcess outside(ECHO_CLIENT_PATH,
                       clientArgs(server.port(), {"--spread=4", "--by=version", "--expect=v2:50~10,v1:50~10"}));
  EXPECT_EQ(outside.waitForExit(), 1) << outside.err();
  EXPECT_NE(outside.out().find("v2                 4  100.0%"), std::string::npos) << outside.out();
  EXPECT_NE(outside.out().find("expect v2: 100.0% within 50% ~ 10: OUTSIDE\n"), std::string::npos) << outside.out();
  EXPECT_NE(outside.out().find("expect v1: 0.0% within 50% ~ 10: OUTSIDE\n"), std::string::npos) << outside.out();
  ChildProcess unlabelled(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--spread=2", "--by=label:zone", "--json"}));
  ASSERT_EQ(unlabelled.waitForExit(), 0) << unlabelled.err();
  EXPECT_EQ(jsonOf(unlabelled.out())->getObject("replicas")->getValue<int>("-"), 2);
  ChildProcess bad(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--spread=2", "--expect=v2"}));
  EXPECT_EQ(bad.waitForExit(), 64);
  EXPECT_NE(bad.err().find("client.expect"), std::string::npos) << bad.err();
}

TEST(ClientProcess, FindIdleTimeoutBracketsTheServersOwnIdleTimeoutWithinASecond) {
  ServerSettings settings = testSettings();
  settings.idleTimeout = Poco::Timespan(2, 0);
  InProcessServer server(settings);
  Poco::Stopwatch took;
  took.start();
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--find-idle-timeout=4", "--json"}));
  ASSERT_EQ(client.waitForExit(), 0) << client.err();
  const auto found = jsonOf(client.out());
  const double survived = found->getValue<double>("survived_s");
  ASSERT_FALSE(found->isNull("died_s")) << client.out();
  const double died = found->getValue<double>("died_s");
  // The server promises never early, and late by at most two ticks and the
  // clock's margin (tests/support/Deadlines.h): the bracket holds 2 s.
  EXPECT_LE(survived, 2.0 + test::latestSeenMs(0) / 1000.0) << client.out();
  EXPECT_GE(died, 2.0) << client.out();
  EXPECT_LT(died - survived, 1.0) << client.out();
  EXPECT_EQ(found->getValue<std::string>("how"), "fin");
  ASSERT_FALSE(found->isNull("closed_after_s"));
  EXPECT_GE(found->getValue<double>("closed_after_s"), 2.0);
  const auto probes = found->getArray("probes");
  EXPECT_LE(probes->size(), 12u);
  for (std::size_t i = 0; i < probes->size(); ++i) {
    const auto probe = probes->getObject(static_cast<unsigned>(i));
    EXPECT_TRUE(probe->getValue<bool>("started"));
    if (!probe->getValue<bool>("survived")) {
      EXPECT_EQ(probe->getValue<std::string>("said"), "ERR idle timeout\n");
    }
  }
  // Two rounds, each as long as its longest silence, plus connects and answers.
  EXPECT_LT(took.elapsedSeconds(), 2 * 4 + 10);
}

TEST(ClientProcess, FindIdleTimeoutFindsARealHaproxysTimeoutWithinASecond) {
  InProcessServer server;  // its own idle timeout (300 s) is not the one found
  test::Haproxy haproxy(server.port(), {"", "3s", "3s"});
  ASSERT_TRUE(haproxy.running());
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(haproxy.port(), {"--find-idle-timeout=6", "--json"}));
  ASSERT_EQ(client.waitForExit(), 0) << client.err();
  const auto found = jsonOf(client.out());
  ASSERT_FALSE(found->isNull("died_s")) << client.out();
  const double survived = found->getValue<double>("survived_s");
  const double died = found->getValue<double>("died_s");
  // HAProxy counts its 3 s from its own last write, before our echo arrived:
  // a silence below 3 s survives; one that died did so within HAProxy's
  // timer resolution and our scheduling of 3 s.
  EXPECT_LE(survived, 3.0 + test::kSchedulingMarginMs / 1000.0) << client.out();
  EXPECT_GE(died, 3.0 - 0.05) << client.out();
  EXPECT_LT(died - survived, 1.0) << client.out();
  EXPECT_EQ(found->getValue<std::string>("how"), "fin") << client.out();  // HAProxy closes in order
  ASSERT_FALSE(found->isNull("closed_after_s")) << client.out();
  EXPECT_NEAR(found->getValue<double>("closed_after_s"), 3.0, test::kSchedulingMarginMs / 1000.0) << client.out();
}

TEST(ClientProcess, FindIdleTimeoutSaysSoWhenEveryProbeSurvives) {
  InProcessServer server;  // idle timeout 300 s
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(server.port(), {"--find-idle-timeout=1"}));
  ASSERT_EQ(client.waitForExit(), 0) << client.err();
  EXPECT_EQ(client.out().rfind("no idle timeout up to 1.000 s: every silent connection was answered\n", 0), 0u)
      << client.out();
  RefusingPort nobody;
  ChildProcess refused(ECHO_CLIENT_PATH, clientArgs(nobody.port(), {"--find-idle-timeout=1"}));
  EXPECT_EQ(refused.waitForExit(), 2);
  EXPECT_NE(refused.err().find("cannot connect"), std::string::npos) << refused.err();
}

TEST(ClientProcess, BenchReconnectCountsHowConnectionsBrokeAndIsNoError) {
  ServerSettings settings = testSettings();
  auto server = std::make_unique<InProcessServer>(settings);
  ChildProcess client(ECHO_CLIENT_PATH, clientArgs(server->port(), {"--bench", "--reconnect", "--connections=4",
                                                                    "--duration=3", "--json"}));
  // All four at work, then the server drains under them and stops listening.
  Poco::Stopwatch waited;
  waited.start();
  const auto atWork = [&] {
    return server->server().registry().counts().running == 4 && server->server().metrics().messages.load() >= 100;
  };
  while (!atWork() && waited.elapsedSeconds() < 10) std::this_thread::yield();
  ASSERT_TRUE(atWork());
  EXPECT_TRUE(server->server().shutdown());
  ASSERT_EQ(client.waitForExit(15s), 0) << client.out() << client.err();
  const auto result = jsonOf(client.out());
  EXPECT_EQ(result->getValue<int>("errors"), 0) << client.out();
  EXPECT_GT(result->getValue<int>("messages"), 0);
  EXPECT_EQ(result->getObject("broken")->getValue<int>("fin"), 4) << client.out();
  EXPECT_GE(result->getValue<int>("refused"), 1) << "nothing listens after the drain: " << client.out();
  EXPECT_GT(result->getValue<double>("longest_without_connection_ms"), 0.0);
}

ServerSettings udpServer() {
  ServerSettings settings = testSettings();
  settings.udpPort = 0;
  settings.udpRatePerAddress = 0;  // the bench below sends from one address
  settings.session.whoCommand = "who";
  return settings;
}

std::vector<std::string> udpArgs(InProcessServer& server, std::vector<std::string> args) {
  args.push_back("--udp");
  args.push_back("--port=" + std::to_string(server.server().udpAddress().port()));
  return args;
}

TEST(ClientProcess, UdpSendPrintsEachReplyAndCheckPasses) {
  InProcessServer server(udpServer());
  ChildProcess send(ECHO_CLIENT_PATH, udpArgs(server, {"--send=hello", "--send=exit"}));
  ASSERT_EQ(send.waitForExit(), 0) << send.err();
  // Datagrams may be answered in any order; on loopback they come in order.
  EXPECT_EQ(send.out(), "echo : hello\necho : exit\n");
  ChildProcess check(ECHO_CLIENT_PATH, udpArgs(server, {"--check"}));
  ASSERT_EQ(check.waitForExit(), 0) << check.out() << check.err();
  EXPECT_EQ(check.out().rfind("ok: 127.0.0.1:", 0), 0u) << check.out();
  EXPECT_NE(check.out().find("(UDP) echoed 22 bytes"), std::string::npos) << check.out();
  ChildProcess who(ECHO_CLIENT_PATH, udpArgs(server, {"--who"}));
  ASSERT_EQ(who.waitForExit(), 0) << who.err();
  EXPECT_EQ(jsonOf(who.out())->getValue<std::string>("listener"), "udp");
}

TEST(ClientProcess, UdpCheckAndSendFailWithoutAServer) {
  InProcessServer server(udpServer());
  const auto port = server.server().udpAddress().port();
  server.server().shutdown();  // the UDP port is closed now: nothing answers
  ChildProcess check(ECHO_CLIENT_PATH, {"--udp", "--check", "--timeout=0.3", "--port=" + std::to_string(port)});
  EXPECT_EQ(check.waitForExit(), 1);
  EXPECT_NE(check.out().find("no reply to 3 datagrams"), std::string::npos) << check.out();
  ChildProcess send(ECHO_CLIENT_PATH, {"--udp", "--send=x", "--timeout=0.3", "--port=" + std::to_string(port)});
  EXPECT_EQ(send.waitForExit(), 1);
  EXPECT_NE(send.err().find("1 of 1 datagram(s) got no reply"), std::string::npos) << send.err();
}

TEST(ClientProcess, UdpBenchCountsSentAnsweredAndLost) {
  InProcessServer server(udpServer());
  ChildProcess bench(ECHO_CLIENT_PATH,
                     udpArgs(server, {"--bench", "--connections=4", "--messages=200", "--size=100", "--json"}));
  ASSERT_EQ(bench.waitForExit(60s), 0) << bench.out() << bench.err();
  const auto result = benchJson(bench);
  const auto udp = result->getObject("udp");
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->getValue<std::uint64_t>("sent"), 800u);
  EXPECT_EQ(result->getValue<std::uint64_t>("messages") + udp->getValue<std::uint64_t>("lost"), 800u);
  EXPECT_EQ(result->getValue<std::uint64_t>("errors"), 0u);
  // Counted once the batch's replies went out: the client may have exited with the last one before.
  EXPECT_TRUE(test::eventually([&] { return server.server().metrics().udpEchoed.load() == 800u; }));
}

TEST(ClientProcess, UdpRefusesWhatDatagramsCannotDo) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--udp"},
                                               {"--udp", "--tls", "--check"},
                                               {"--udp", "--proxy-protocol=v2", "--check"},
                                               {"--udp", "--bench", "--pipeline=4"},
                                               {"--udp", "--bench", "--reconnect", "--duration=1"}}) {
    ChildProcess client(ECHO_CLIENT_PATH, args);
    EXPECT_EQ(client.waitForExit(), 64) << args.size();
    EXPECT_NE(client.err().find("client.udp"), std::string::npos) << client.err();
  }
}

TEST(ClientProcess, ReconnectNeedsADuration) {
  ChildProcess client(ECHO_CLIENT_PATH, {"--bench", "--reconnect", "--messages=10"});
  EXPECT_EQ(client.waitForExit(), 64);
  EXPECT_NE(client.err().find("--duration"), std::string::npos) << client.err();
}

}  // namespace
}  // namespace echod
