// The PROXY-then-TLS listener over loopback (docs/protocol.md, "PROXY, then
// TLS"): a header, then the handshake, then the echo, whether the header
// comes in the ClientHello's segment, split, or from HAProxy's send-proxy-v2
// in TCP mode in front (TLS passthrough); who carries both; the header's
// deadline, the handshake's deadline and the drain, as on the other two.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Stopwatch.h>

#include <future>
#include <string>

#include "ChildProcess.h"
#include "Deadlines.h"
#include "Haproxy.h"
#include "InProcessServer.h"
#include "TestClient.h"
#include "TlsSupport.h"
#include "protocol/ProxyHeader.h"
#include "service/admin/MetricsText.h"
#include "tls/TlsContext.h"

namespace echod {
namespace {

using test::ChildProcess;
using test::eventually;
using test::handshakes;
using test::InProcessServer;
using test::TestClient;
using Version = ServerMetrics::ProxyVersion;
using Result = ServerMetrics::ProxyResult;

ServerSettings proxyTlsSettings() {
  ServerSettings s = test::tlsTestSettings();
  s.tlsPort = TlsSettings::kTlsOff;  // only the new listener beside the plain one
  s.proxyTlsPort = 0;
  s.session.whoCommand = "who";
  return s;
}

std::uint16_t port(InProcessServer& server) { return server.server().proxyTlsAddress().port(); }

std::uint64_t headers(InProcessServer& server, Version version, Result result) {
  return server.server()
      .metrics()
      .proxyHeaders[static_cast<std::size_t>(version)][static_cast<std::size_t>(result)]
      .load();
}

Poco::JSON::Object::Ptr parsed(const std::string& line) {
  Poco::JSON::Parser parser;
  return parser.parse(line).extract<Poco::JSON::Object::Ptr>();
}

/// A TLS handshake over a socket that has already sent its header.
TestClient handshakeOver(Poco::Net::StreamSocket& plain) {
  const auto context = tls::clientContext(tls::ClientTrust{test::devCertificates().ca(), false}, "127.0.0.1", {});
  plain.setReceiveTimeout(test::kDeadline);
  plain.setSendTimeout(test::kDeadline);
  return TestClient(Poco::Net::SecureStreamSocket::attach(plain, "127.0.0.1", context));
}

const std::string kClientV1 = "PROXY TCP4 203.0.113.7 192.0.2.1 5555 4571\r\n";

TEST(ServerProxyTls, TheHeaderInTheClientHellosSegmentNamesTheClientAndTlsFollows) {
  InProcessServer server(proxyTlsSettings());
  // echo-client sends the header with MSG_MORE: it leaves with the ClientHello, in one segment.
  ChildProcess client(ECHO_CLIENT_PATH,
                      {"--tls", "--port=" + std::to_string(port(server)), "--tls-ca=" + test::devCertificates().ca(),
                       "--proxy-protocol=v2", "--proxy-source=198.51.100.9:4242", "--who"});
  EXPECT_EQ(client.waitForExit(), 0) << client.err();
  const auto who = parsed(client.out());
  EXPECT_EQ(who->getValue<std::string>("listener"), "proxy-tls");
  EXPECT_EQ(who->getValue<std::string>("client"), "198.51.100.9:4242");
  EXPECT_EQ(who->getObject("proxy")->getValue<int>("version"), 2);
  EXPECT_EQ(who->getObject("tls")->getValue<std::string>("version").rfind("TLSv1.", 0), 0U);
  EXPECT_EQ(headers(server, Version::V2, Result::Proxied), 1U);
  EXPECT_TRUE(eventually([&] { return handshakes(server, ServerMetrics::Handshake::Ok) == 1; }));
  const std::string metrics = metricsText(server.server());
  EXPECT_NE(metrics.find("echod_listener_connections_total{listener=\"proxy-tls\"} 1\n"), std::string::npos) << metrics;
}

TEST(ServerProxyTls, AHeaderSentInPartsIsGatheredAndTheHandshakeStartsAtItsEnd) {
  InProcessServer server(proxyTlsSettings());
  Poco::Net::StreamSocket plain;
  plain.connect(Poco::Net::SocketAddress("127.0.0.1", port(server)), test::kDeadline);
  plain.setNoDelay(true);
  plain.sendBytes(kClientV1.data(), 20);
  plain.sendBytes(kClientV1.data() + 20, static_cast<int>(kClientV1.size()) - 20);
  TestClient client = handshakeOver(plain);
  client.send("who\n");
  const auto who = parsed(client.readLine());
  EXPECT_EQ(who->getValue<std::string>("client"), "203.0.113.7:5555");
  EXPECT_EQ(who->getValue<std::string>("listener"), "proxy-tls");
  client.send("inside\nexit\n");
  EXPECT_EQ(client.readAll(), "echo : inside\nFIN\n");
  EXPECT_FALSE(client.tlsClosedUncleanly());
  EXPECT_EQ(headers(server, Version::V1, Result::Proxied), 1U);
}

TEST(ServerProxyTls, HaproxySendProxyV2InTcpModeIsTlsPassthroughWithTheClientsAddress) {
  InProcessServer server(proxyTlsSettings());
  test::Haproxy haproxy(port(server), {"send-proxy-v2"});
  if (!haproxy.running()) return;
  TestClient client(test::tlsConnect(haproxy.port()));
  client.send("who\n");
  const auto who = parsed(client.readLine());
  EXPECT_EQ(who->getValue<std::string>("listener"), "proxy-tls");
  EXPECT_EQ(who->getValue<std::string>("client"), client.socket().address().toString())
      << "the header names this client, not HAProxy";
  EXPECT_NE(who->getValue<std::string>("peer"), who->getValue<std::string>("client"));
  EXPECT_EQ(who->getObject("proxy")->getValue<int>("version"), 2);
  EXPECT_FALSE(who->getObject("tls")->getValue<std::string>("cipher").empty());
  client.send("through haproxy\nexit\n");
  EXPECT_EQ(client.readAll(), "echo : through haproxy\nFIN\n");
}

TEST(ServerProxyTls, WithoutAHeaderTheProxyListenersRulesApply) {
  InProcessServer server(proxyTlsSettings());
  TestClient client(port(server));
  client.send("hello\n");
  EXPECT_EQ(client.readAll(), "ERR bad proxy header\n");
  EXPECT_EQ(headers(server, Version::None, Result::Bad), 1U);
  EXPECT_EQ(handshakes(server, ServerMetrics::Handshake::Ok), 0U);
}

TEST(ServerProxyTls, AnIncompleteHeaderAtItsDeadlineGetsErrBadProxyHeader) {
  ServerSettings settings = proxyTlsSettings();
  settings.proxyHeaderTimeout = Poco::Timespan(0, 400 * 1000);
  InProcessServer server(settings);
  Poco::Stopwatch sinceConnect;  // "never early" counts from before the server's start
  sinceConnect.start();
  TestClient client(port(server));
  client.send("PROXY TCP4 203.0.113.7 ");
  ASSERT_TRUE(eventually([&] {
    std::size_t total = 0;
    const auto views = server.server().registry().snapshot(10, total);
    return views.size() == 1 && views[0].state == std::string("handshake");
  }));
  Poco::Stopwatch sinceReading;
  sinceReading.start();
  EXPECT_EQ(client.readAll(), "ERR bad proxy header\n");
  EXPECT_GE(sinceConnect.elapsed() / 1000, 400);
  EXPECT_LE(sinceReading.elapsed() / 1000, test::latestSeenMs(400));
  EXPECT_EQ(headers(server, Version::V1, Result::Timeout), 1U);
}

TEST(ServerProxyTls, AHeaderWithoutAHandshakeIsClosedAtTheHandshakeDeadline) {
  ServerSettings settings = proxyTlsSettings();
  settings.tlsHandshakeTimeout = Poco::Timespan(0, 400 * 1000);
  InProcessServer server(settings);
  Poco::Stopwatch sinceConnect;
  sinceConnect.start();
  TestClient client(port(server));
  client.send(kClientV1);  // then not a byte of TLS
  // The header's deadline is disarmed before the header is counted, and the
  // handshake's armed after: once the registry shows an opening again, the
  // handshake's deadline has started.
  ASSERT_TRUE(eventually([&] { return headers(server, Version::V1, Result::Proxied) == 1; }));
  ASSERT_TRUE(eventually([&] {
    std::size_t total = 0;
    const auto views = server.server().registry().snapshot(10, total);
    return views.size() == 1 && views[0].state == std::string("handshake");
  }));
  Poco::Stopwatch sinceHeader;
  sinceHeader.start();
  bool closed = false;
  EXPECT_EQ(client.readUntilClosed(closed), "") << "nothing is said outside TLS";
  EXPECT_TRUE(closed);
  EXPECT_GE(sinceConnect.elapsed() / 1000, 400);
  EXPECT_LE(sinceHeader.elapsed() / 1000, test::latestSeenMs(400));
  EXPECT_TRUE(eventually([&] { return handshakes(server, ServerMetrics::Handshake::Timeout) == 1; }));
}

TEST(ServerProxyTls, TheDrainSendsFinInsideTlsThenCloseNotify) {
  InProcessServer server(proxyTlsSettings());
  Poco::Net::StreamSocket plain;
  plain.connect(Poco::Net::SocketAddress("127.0.0.1", port(server)), test::kDeadline);
  plain.sendBytes(kClientV1.data(), static_cast<int>(kClientV1.size()));
  TestClient client = handshakeOver(plain);
  client.send("before\n");
  EXPECT_EQ(client.readLine(), "echo : before\n");
  auto stopped = std::async(std::launch::async, [&] { return server.server().shutdown(); });
  EXPECT_EQ(client.readAll(), "FIN\n");
  EXPECT_FALSE(client.tlsClosedUncleanly()) << "no close_notify after the drain's FIN";
  EXPECT_TRUE(stopped.get());
}

TEST(ServerProxyTls, ThePerAddressLimitCountsTheHeadersClient) {
  ServerSettings settings = proxyTlsSettings();
  settings.maxConnectionsPerAddress = 1;
  InProcessServer server(settings);
  Poco::Net::StreamSocket first;
  first.connect(Poco::Net::SocketAddress("127.0.0.1", port(server)), test::kDeadline);
  first.sendBytes(kClientV1.data(), static_cast<int>(kClientV1.size()));
  TestClient one = handshakeOver(first);
  one.send("one\n");
  EXPECT_EQ(one.readLine(), "echo : one\n");
  // Another client behind the same proxy address is served; the same client again is not.
  Poco::Net::StreamSocket second;
  second.connect(Poco::Net::SocketAddress("127.0.0.1", port(server)), test::kDeadline);
  const std::string other = "PROXY TCP4 203.0.113.8 192.0.2.1 5556 4571\r\n";
  second.sendBytes(other.data(), static_cast<int>(other.size()));
  TestClient two = handshakeOver(second);
  two.send("two\n");
  EXPECT_EQ(two.readLine(), "echo : two\n");
  TestClient again(port(server));
  again.send(kClientV1);
  EXPECT_EQ(again.readAll(), "ERR too many connections\n");
}

}  // namespace
}  // namespace echod
