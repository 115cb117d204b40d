// UDP echo over loopback (docs/protocol.md, "UDP"): a datagram gets the
// prefix and itself back, who answers with "listener": "udp", exit means
// nothing, and the guards: a source port below 1024 and a source address over
// its rate get nothing, an echo too large for a datagram is dropped; each
// counted. Drops are checked on the server's side first (its counters), then
// that nothing came: the counters move only after the batch was answered.
#include <gtest/gtest.h>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/DatagramSocket.h>

#include <csignal>
#include <optional>
#include <string>

#include "ChildProcess.h"
#include "InProcessServer.h"
#include "TestClient.h"

namespace echod {
namespace {

using test::ChildProcess;
using test::InProcessServer;
using Drop = ServerMetrics::UdpDrop;

ServerSettings udpSettings() {
  ServerSettings s = test::testSettings();
  s.udpPort = 0;
  return s;
}

/// A UDP client on loopback (from `host`, port `port`: 0 any).
class UdpClient {
 public:
  explicit UdpClient(const std::string& host = "127.0.0.1", std::uint16_t port = 0)
      : _socket(Poco::Net::SocketAddress(host, port), true) {}
  void send(InProcessServer& server, const std::string& datagram) {
    _socket.sendTo(datagram.data(), static_cast<int>(datagram.size()),
                   Poco::Net::SocketAddress("127.0.0.1", server.server().udpAddress().port()));
  }
  /// The next datagram, or nothing within `timeout`.
  std::optional<std::string> receive(Poco::Timespan timeout = test::kDeadline) {
    if (!_socket.poll(timeout, Poco::Net::Socket::SELECT_READ)) return std::nullopt;
    std::string buffer(70000, '\0');
    Poco::Net::SocketAddress from;
    const int n = _socket.receiveFrom(buffer.data(), static_cast<int>(buffer.size()), from);
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
  }
  Poco::Net::SocketAddress address() const { return _socket.address(); }

 private:
  Poco::Net::DatagramSocket _socket;
};

std::uint64_t dropped(InProcessServer& server, Drop reason) {
  return server.server().metrics().udpDropped[static_cast<std::size_t>(reason)].load();
}

TEST(ServerUdp, EachDatagramGetsThePrefixAndItselfBack) {
  InProcessServer server(udpSettings());
  UdpClient client;
  for (const std::string& datagram : {std::string("hello"), std::string("two\nlines\n"), std::string("exit"),
                                      std::string("\0\x01\xff", 3), std::string()}) {
    client.send(server, datagram);
    EXPECT_EQ(client.receive(), "echo : " + datagram);
  }
  // Counted once the batch's replies went out: by then the client may already hold the last one.
  EXPECT_TRUE(test::eventually([&] { return server.server().metrics().udpEchoed.load() == 5u; }));
}

TEST(ServerUdp, WhoAnswersWithTheUdpListenerAndTheSource) {
  ServerSettings settings = udpSettings();
  settings.session.whoCommand = "who";
  InProcessServer server(settings);
  UdpClient client;
  for (const char* who : {"who", "who\n", "who\r\n"}) {
    client.send(server, who);
    const auto reply = client.receive();
    ASSERT_TRUE(reply) << who;
    Poco::JSON::Parser parser;
    const auto json = parser.parse(*reply).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(json->getValue<std::string>("listener"), "udp");
    EXPECT_EQ(json->getValue<std::string>("peer"), client.address().toString());
    EXPECT_EQ(json->getValue<std::string>("client"), client.address().toString());
    EXPECT_TRUE(json->isNull("proxy"));
    EXPECT_FALSE(json->getValue<bool>("faults"));
  }
  client.send(server, "who?");
  EXPECT_EQ(client.receive(), "echo : who?");
  EXPECT_TRUE(test::eventually([&] { return server.server().metrics().udpWho.load() == 3u; }));
}

TEST(ServerUdp, ASourcePortBelow1024GetsNothing) {
  InProcessServer server(udpSettings());
  // Tests run as root: the first port below 1024 (from 1023 down) that nothing else holds.
  std::optional<UdpClient> found;
  for (std::uint16_t port = 1023; !found && port > 900; --port) {
    try {
      found.emplace("127.0.0.1", port);
    } catch (const Poco::Exception&) {
      // In use: the next one down.
    }
  }
  ASSERT_TRUE(found) << "no free UDP port between 901 and 1023";
  UdpClient& low = *found;
  low.send(server, "loop?");
  EXPECT_TRUE(test::eventually([&] { return dropped(server, Drop::LowPort) == 1; }));
  EXPECT_FALSE(low.receive(Poco::Timespan(0)));
  EXPECT_EQ(server.server().metrics().udpEchoed.load(), 0u);
}

TEST(ServerUdp, EachSourceAddressGetsAtMostItsRateOfReplies) {
  ServerSettings settings = udpSettings();
  settings.udpRatePerAddress = 5;
  InProcessServer server(settings);
  UdpClient first;
  for (int i = 0; i < 20; ++i) first.send(server, "m" + std::to_string(i));
  const auto& m = server.server().metrics();
  EXPECT_TRUE(test::eventually([&] { return m.udpEchoed.load() + dropped(server, Drop::Rate) == 20; }));
  // Fixed one-second windows: 20 datagrams sent within two windows at most get 5 + 5.
  EXPECT_LE(m.udpEchoed.load(), 10u);
  EXPECT_GE(m.udpEchoed.load(), 5u);
  int received = 0;
  while (first.receive(Poco::Timespan(0))) ++received;
  EXPECT_EQ(static_cast<std::uint64_t>(received), m.udpEchoed.load());
  // Another source address (loopback is a /8) has its own budget; another port of the first does not.
  UdpClient second("127.0.0.2");
  second.send(server, "fresh");
  EXPECT_EQ(second.receive(), "echo : fresh");
}

TEST(ServerUdp, AnEchoTooLargeForADatagramIsDropped) {
  InProcessServer server(udpSettings());
  UdpClient client;
  client.send(server, std::string(65507, 'x'));  // the largest datagram: with the prefix it cannot go back
  EXPECT_TRUE(test::eventually([&] { return dropped(server, Drop::TooLarge) == 1; }));
  EXPECT_FALSE(client.receive(Poco::Timespan(0)));
  client.send(server, std::string(65500, 'y'));  // 7 + 65500 = 65507: fits
  const auto reply = client.receive();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->size(), 65507u);
}

TEST(ServerUdp, SeveralThreadsOnOnePortAnswerEverySource) {
  ServerSettings settings = udpSettings();
  settings.udpThreads = 3;
  InProcessServer server(settings);
  for (int i = 0; i < 30; ++i) {
    UdpClient client;
    client.send(server, "from " + std::to_string(i));
    EXPECT_EQ(client.receive(), "echo : from " + std::to_string(i));
  }
}

/// Sends `datagram` from `from` to `to` on a connected socket, which takes
/// datagrams from `to` only, as a client that asked one address expects its
/// answer from that address; the reply, or nothing within the deadline.
std::optional<std::string> askConnected(const std::string& from, const Poco::Net::SocketAddress& to,
                                        const std::string& datagram) {
  Poco::Net::DatagramSocket socket(Poco::Net::SocketAddress(from, 0), true);
  socket.connect(to);
  socket.sendBytes(datagram.data(), static_cast<int>(datagram.size()));
  if (!socket.poll(test::kDeadline, Poco::Net::Socket::SELECT_READ)) return std::nullopt;
  std::string buffer(70000, '\0');
  buffer.resize(static_cast<std::size_t>(socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()))));
  return buffer;
}

/// The `local` of a who reply.
std::string localOf(const std::optional<std::string>& who) {
  if (!who) return "(no reply)";
  Poco::JSON::Parser parser;
  return parser.parse(*who).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("local");
}

TEST(ServerUdp, OnAWildcardAddressTheReplyComesFromTheAddressTheClientReached) {
  for (const std::string host : {"0.0.0.0", "::"}) {
    ServerSettings settings = udpSettings();
    settings.host = host;
    settings.session.whoCommand = "who";
    InProcessServer server(settings);
    const std::uint16_t port = server.server().udpAddress().port();
    // 127.0.0.2 is this host's (loopback is a /8) but not the source the
    // kernel picks to answer 127.0.0.1: only an answer from the address
    // reached gets through.
    const Poco::Net::SocketAddress second("127.0.0.2", port);
    EXPECT_EQ(askConnected("127.0.0.1", second, "hello"), "echo : hello") << host;
    // Like TCP's `local` on a dual-stack listener: an IPv4 client on "::" is IPv4-mapped.
    const std::string reached = host == "::" ? "[::ffff:127.0.0.2]:" : "127.0.0.2:";
    EXPECT_EQ(localOf(askConnected("127.0.0.1", second, "who")), reached + std::to_string(port)) << host;
    if (host == "::") {
      const Poco::Net::SocketAddress six("::1", port);
      EXPECT_EQ(askConnected("::1", six, "six"), "echo : six");
      EXPECT_EQ(localOf(askConnected("::1", six, "who")), "[::1]:" + std::to_string(port));
    }
  }
}

TEST(ServerUdp, TheProcessLogsItsUdpPortAndRefusesABadOne) {
  ChildProcess server(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0", "--udp-port=0", "--udp-rate-per-address=0"});
  const auto line = server.waitForStderrLine("UDP echo on ");
  ASSERT_TRUE(line.has_value()) << server.err();
  EXPECT_NE(line->find("(1 thread(s), no rate limit)"), std::string::npos) << *line;
  server.signal(SIGTERM);
  EXPECT_EQ(server.waitForExit(), 0);
  ChildProcess bad(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0", "--udp-port=70000"});
  EXPECT_EQ(bad.waitForExit(), 78);
  EXPECT_NE(bad.err().find("echo.udpPort"), std::string::npos) << bad.err();
}

}  // namespace
}  // namespace echod
