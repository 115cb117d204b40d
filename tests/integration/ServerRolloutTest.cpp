// Rollouts and connection lifetime over loopback (docs/protocol.md "Rollouts
// and connection lifetime"): labels and version in who, {label:KEY}, TCP_INFO
// and keepalive in who, the message limit and the age limit ending with FIN,
// and their counts in /metrics.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Stopwatch.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "Deadlines.h"
#include "InProcessServer.h"
#include "TestClient.h"

namespace echod {
namespace {

using test::InProcessServer;
using test::TestClient;

Poco::JSON::Object::Ptr parsed(const std::string& line) {
  Poco::JSON::Parser parser;
  return parser.parse(line).extract<Poco::JSON::Object::Ptr>();
}

ServerSettings labelled() {
  ServerSettings s = test::testSettings();
  s.session.whoCommand = "who";
  std::string error;
  s.labels = *parseLabels("track=canary,zone=b", error);
  s.serviceVersion = "2.0.0-rc1";
  return s;
}

std::uint64_t recycled(InProcessServer& server, ConnectionMetrics::Recycle why) {
  return server.server().metrics().recycled[static_cast<std::size_t>(why)].load();
}

/// Waits until the server holds `n` connections: its own start of their age.
void admitted(InProcessServer& server, std::size_t n) {
  ASSERT_TRUE(test::eventually([&] { return server.server().registry().size() == n; }));
}

TEST(ServerRollout, WhoTellsTheVersionAndTheLabelsInTheirOrder) {
  InProcessServer server(labelled());
  TestClient client(server.port());
  client.send("who\n");
  const auto who = parsed(client.readLine());
  EXPECT_EQ(who->getValue<std::string>("version"), "2.0.0-rc1");
  const auto labels = who->getObject("labels");
  ASSERT_TRUE(labels);
  EXPECT_EQ(labels->getValue<std::string>("track"), "canary");
  EXPECT_EQ(labels->getValue<std::string>("zone"), "b");
  std::ostringstream text;
  labels->stringify(text);
  EXPECT_EQ(text.str(), R"({"track":"canary","zone":"b"})");
}

TEST(ServerRollout, WithNoLabelsWhoSaysAnEmptyObjectAndTheProgramsVersion) {
  ServerSettings s = test::testSettings();
  s.session.whoCommand = "who";
  InProcessServer server(s);
  TestClient client(server.port());
  client.send("who\n");
  const auto who = parsed(client.readLine());
  EXPECT_EQ(who->getValue<std::string>("version"), ECHOD_VERSION);
  ASSERT_TRUE(who->getObject("labels"));
  EXPECT_EQ(who->getObject("labels")->size(), 0u);
  // TCP facts with no keepalive set: keepalive null, the kernel's user timeout.
  const auto tcp = who->getObject("tcp");
  ASSERT_TRUE(tcp);
  EXPECT_TRUE(tcp->isNull("keepalive"));
  EXPECT_EQ(tcp->getValue<int>("user_timeout_ms"), 0);
}

TEST(ServerRollout, LabelPlaceholdersFillThePrefixAndTheBannerWithADashWhenUnset) {
  ServerSettings s = labelled();
  s.session.prefix = "{label:track}/{label:missing}: ";
  s.banner = "{label:zone} ready {label:unclosed";
  InProcessServer server(s);
  TestClient client(server.port());
  EXPECT_EQ(client.readLine(), "b ready {label:unclosed\n");
  client.send("hi\nexit\n");
  EXPECT_EQ(client.readAll(), "canary/-: hi\nFIN\n");
}

TEST(ServerRollout, WhoReadsTcpInfoAndTheKeepaliveAndUserTimeoutEachConnectionInherited) {
  ServerSettings s = labelled();
  s.tcpKeepalive = TcpKeepalive{30, 5, 3};
  s.tcpUserTimeoutMs = 5000;
  InProcessServer server(s);
  TestClient client(server.port());
  client.send("warm up\n");
  EXPECT_EQ(client.readLine(), "echo : warm up\n");
  client.send("who\n");
  const auto who = parsed(client.readLine());
  const auto tcp = who->getObject("tcp");
  ASSERT_TRUE(tcp);
  EXPECT_GT(tcp->getValue<int>("rtt_us"), 0);  // a round trip was measured
  EXPECT_GE(tcp->getValue<int>("rttvar_us"), 0);
  EXPECT_EQ(tcp->getValue<int>("retransmits"), 0);  // loopback loses nothing
  EXPECT_GT(tcp->getValue<int>("mss"), 0);
  EXPECT_GE(tcp->getValue<int>("pmtu"), tcp->getValue<int>("mss"));
  EXPECT_GT(tcp->getValue<int>("cwnd"), 0);
  const auto keepalive = tcp->getObject("keepalive");
  ASSERT_TRUE(keepalive) << "SO_KEEPALIVE not inherited from the listening socket";
  EXPECT_EQ(keepalive->getValue<int>("idle"), 30);
  EXPECT_EQ(keepalive->getValue<int>("interval"), 5);
  EXPECT_EQ(keepalive->getValue<int>("count"), 3);
  EXPECT_EQ(tcp->getValue<int>("user_timeout_ms"), 5000);
}

TEST(ServerRollout, UdpWhoHasNoTcpFacts) {
  ServerSettings s = labelled();
  s.udpPort = 0;
  InProcessServer server(s);
  Poco::Net::DatagramSocket udp(Poco::Net::SocketAddress("127.0.0.1", 0));
  udp.setReceiveTimeout(test::kDeadline);
  udp.sendTo("who", 3, server.server().udpAddress());
  char buffer[4096];
  Poco::Net::SocketAddress from;
  const int n = udp.receiveFrom(buffer, sizeof buffer, from);
  ASSERT_GT(n, 0);
  const auto who = parsed(std::string(buffer, static_cast<std::size_t>(n)));
  EXPECT_TRUE(who->isNull("tcp"));
  EXPECT_EQ(who->getValue<std::string>("version"), "2.0.0-rc1");
  EXPECT_EQ(who->getObject("labels")->getValue<std::string>("track"), "canary");
}

TEST(ServerRollout, AfterItsLastMessageAConnectionGetsFinAndIsCounted) {
  ServerSettings s = test::testSettings();
  s.maxMessagesPerConnection = 3;
  InProcessServer server(s);
  TestClient client(server.port());
  client.send("1\n2\n3\n4\n5\n");  // pipelined: the fourth is never answered
  EXPECT_EQ(client.readAll(), "echo : 1\necho : 2\necho : 3\nFIN\n");
  EXPECT_TRUE(test::eventually([&] { return recycled(server, ConnectionMetrics::Recycle::MaxMessages) == 1; }));
  EXPECT_EQ(recycled(server, ConnectionMetrics::Recycle::MaxAge), 0u);
  TestClient exits(server.port());  // exit before the limit is an ordinary FIN
  exits.send("a\nexit\n");
  EXPECT_EQ(exits.readAll(), "echo : a\nFIN\n");
  EXPECT_EQ(recycled(server, ConnectionMetrics::Recycle::MaxMessages), 1u);
}

TEST(ServerRollout, AnIdleConnectionGetsFinAtItsAgeNeverEarly) {
  ServerSettings s = test::testSettings();
  std::string error;
  s.maxConnectionAge = *AgeLimit::parse("0.4", error);
  InProcessServer server(s);
  Poco::Stopwatch sinceConnect;  // from before the server's start of the age: a bound from below
  sinceConnect.start();
  TestClient client(server.port());
  admitted(server, 1);
  Poco::Stopwatch sinceAdmitted;  // from after it: a bound from above
  sinceAdmitted.start();
  bool closed = false;
  EXPECT_EQ(client.readUntilClosed(closed), "FIN\n");
  EXPECT_TRUE(closed);
  EXPECT_FALSE(client.wasReset());
  EXPECT_GE(sinceConnect.elapsed() / 1000, 400);
  EXPECT_LE(sinceAdmitted.elapsed() / 1000, test::latestSeenMs(400));
  EXPECT_TRUE(test::eventually([&] { return recycled(server, ConnectionMetrics::Recycle::MaxAge) == 1; }));
}

TEST(ServerRollout, ABusyConnectionEndsAtItsAgeRightAfterAWholeAnswer) {
  ServerSettings s = test::testSettings();
  std::string error;
  s.maxConnectionAge = *AgeLimit::parse("0.3", error);
  InProcessServer server(s);
  TestClient client(server.port());
  admitted(server, 1);
  Poco::Stopwatch sinceAdmitted;
  sinceAdmitted.start();
  // One message at a time, each answered whole, until FIN: never a cut reply.
  int answered = 0;
  std::string last;
  for (int i = 0; i < 100000 && sinceAdmitted.elapsed() < test::kDeadline.totalMicroseconds(); ++i) {
    const std::string message = "message " + std::to_string(i) + " " + std::string(100, 'x');
    client.send(message + "\n");
    last = client.readLine();
    if (last != "echo : " + message + "\n") break;
    ++answered;
  }
  EXPECT_EQ(last, "FIN\n");
  EXPECT_GT(answered, 1);
  bool closed = false;
  EXPECT_EQ(client.readUntilClosed(closed), "");
  EXPECT_TRUE(closed);
  EXPECT_LE(sinceAdmitted.elapsed() / 1000, test::latestSeenMs(300));
}

TEST(ServerRollout, EachConnectionDrawsItsAgeWithinTheJitterBand) {
  ServerSettings s = test::testSettings();
  std::string error;
  s.maxConnectionAge = *AgeLimit::parse("0.5~0.3", error);  // 0.2 s to 0.8 s
  InProcessServer server(s);
  constexpr std::size_t kConnections = 8;
  Poco::Stopwatch sinceConnect;
  sinceConnect.start();
  std::vector<std::unique_ptr<TestClient>> clients;
  for (std::size_t i = 0; i < kConnections; ++i) clients.push_back(std::make_unique<TestClient>(server.port()));
  admitted(server, kConnections);
  Poco::Stopwatch sinceAdmitted;
  sinceAdmitted.start();
  // Each end is read as it comes: a poll over all of them, not one after another.
  std::vector<std::int64_t> endedMs(kConnections, -1);
  std::vector<std::string> got(kConnections);
  while (std::count(endedMs.begin(), endedMs.end(), -1) > 0 &&
         sinceAdmitted.elapsed() < test::kDeadline.totalMicroseconds()) {
    Poco::Net::Socket::SocketList readable, none, errors;
    for (std::size_t i = 0; i < kConnections; ++i) {
      if (endedMs[i] < 0) readable.push_back(clients[i]->socket());
    }
    if (Poco::Net::Socket::select(readable, none, errors, Poco::Timespan(0, 100000)) == 0) continue;
    for (std::size_t i = 0; i < kConnections; ++i) {
      if (endedMs[i] >= 0 || std::find(readable.begin(), readable.end(), clients[i]->socket()) == readable.end()) {
        continue;
      }
      bool closed = false;
      got[i] = clients[i]->readUntilClosed(closed);
      if (closed) endedMs[i] = sinceConnect.elapsed() / 1000;
    }
  }
  for (std::size_t i = 0; i < kConnections; ++i) {
    EXPECT_EQ(got[i], "FIN\n") << i;
    EXPECT_GE(endedMs[i], 200) << i;  // never before S - J
  }
  EXPECT_LE(sinceAdmitted.elapsed() / 1000, test::latestSeenMs(800));  // the last by S + J
  const auto [earliest, latest] = std::minmax_element(endedMs.begin(), endedMs.end());
  // Drawn per connection: eight uniform draws over 600 ms all within 50 ms of
  // each other has a chance below 1e-7.
  EXPECT_GT(*latest - *earliest, 50);
  EXPECT_EQ(recycled(server, ConnectionMetrics::Recycle::MaxAge), kConnections);
}

TEST(ServerRollout, RawFramingEndsAnAgedConnectionWithTheThreeByteFin) {
  ServerSettings s = test::testSettings();
  s.session.framing = Framing::Raw;
  std::string error;
  s.maxConnectionAge = *AgeLimit::parse("0.2", error);
  InProcessServer server(s);
  TestClient client(server.port());
  client.send("Bonjour");
  EXPECT_EQ(client.read(14), "echo : Bonjour");
  EXPECT_EQ(client.readAll(), "FIN");
}

TEST(ServerRollout, OnThePROXYListenerTheAgeEndsTheConnectionOnceItsHeaderIsRead) {
  ServerSettings s = test::testSettings();
  s.proxyPort = 0;
  std::string error;
  s.maxConnectionAge = *AgeLimit::parse("0.3", error);
  InProcessServer server(s);
  TestClient client(server.server().proxyAddress().port());
  client.send("PROXY TCP4 192.0.2.1 192.0.2.2 1000 4567\r\nhello\n");
  EXPECT_EQ(client.readLine(), "echo : hello\n");
  EXPECT_EQ(client.readAll(), "FIN\n");
}

}  // namespace
}  // namespace echod
