// The PROXY protocol listener over loopback (docs/protocol.md, "The PROXY
// protocol listener"): both versions, split headers, the bytes behind a
// header, the deadline, bad headers, trusted sources, LOCAL and UNKNOWN, the
// per-address limit by real client, and HAProxy itself as the sender.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Stopwatch.h>
#include <Poco/Thread.h>

#include <algorithm>
#include <string>

#include "Deadlines.h"
#include "Haproxy.h"
#include "InProcessServer.h"
#include "TestClient.h"
#include "TlsSupport.h"
#include "protocol/ProxyHeader.h"

namespace echod {
namespace {

using test::eventually;
using test::InProcessServer;
using test::TestClient;
using Version = ServerMetrics::ProxyVersion;
using Result = ServerMetrics::ProxyResult;

ServerSettings proxySettings() {
  ServerSettings s = test::testSettings();
  s.proxyPort = 0;
  return s;
}

std::uint16_t proxyPort(InProcessServer& server) { return server.server().proxyAddress().port(); }

std::uint64_t headers(InProcessServer& server, Version version, Result result) {
  return server.server()
      .metrics()
      .proxyHeaders[static_cast<std::size_t>(version)][static_cast<std::size_t>(result)]
      .load();
}

/// The registry's open connections, as the console shows them.
std::vector<ConnectionRegistry::View> connections(InProcessServer& server) {
  std::size_t total = 0;
  return server.server().registry().snapshot(10, total);
}

/// The registry's one open connection, as the console shows it.
ConnectionRegistry::View onlyConnection(InProcessServer& server) {
  auto views = connections(server);
  EXPECT_EQ(views.size(), 1u);
  return views.empty() ? ConnectionRegistry::View{} : views.front();
}

std::string localAddress(TestClient& client) { return client.socket().address().toString(); }

const std::string kClientV1 = "PROXY TCP4 203.0.113.7 192.0.2.1 5555 4570\r\n";

TEST(ServerProxy, AV1HeaderNamesTheClientAndTheBytesBehindItAreEchoed) {
  InProcessServer server(proxySettings());
  TestClient client(proxyPort(server));
  client.send(kClientV1 + "hello\n");  // one segment: the header and the first line
  EXPECT_EQ(client.readLine(), "echo : hello\n");
  const auto view = onlyConnection(server);
  EXPECT_EQ(view.peer, "203.0.113.7:5555");
  EXPECT_EQ(view.proxy, localAddress(client));
  EXPECT_EQ(view.listener, ConnectionSlot::Listener::Proxy);
  client.send("exit\n");
  EXPECT_EQ(client.readAll(), "FIN\n");
  EXPECT_EQ(headers(server, Version::V1, Result::Proxied), 1u);
}

TEST(ServerProxy, AV2HeaderSentOneByteAtATimeIsGatheredAndItsIpv6ClientKept) {
  InProcessServer server(proxySettings());
  TestClient client(proxyPort(server));
  const std::string header =
      encodeProxyV2(ProxyAddress::fromText("2001:db8::7", 40000), ProxyAddress::fromText("2001:db8::1", 4570),
                    {{0x02, "echo.example"}, {0x05, "id-1"}}, true);
  for (const char byte : header) client.send(std::string(1, byte));
  client.send("a\nb\n");
  EXPECT_EQ(client.readLine(), "echo : a\n");
  EXPECT_EQ(client.readLine(), "echo : b\n");
  EXPECT_EQ(onlyConnection(server).peer, "[2001:db8::7]:40000");
  EXPECT_EQ(headers(server, Version::V2, Result::Proxied), 1u);
}

TEST(ServerProxy, BytesBehindTheLastPartOfASplitHeaderAreEchoedInOrder) {
  // The header's last part and the first lines in one segment, at every split
  // point: what came behind a gathered header is served before the next read.
  InProcessServer server(proxySettings());
  const std::string header =
      encodeProxyV2(ProxyAddress::fromText("198.51.100.9", 6000), ProxyAddress::fromText("192.0.2.1", 4570));
  for (std::size_t split = 1; split < header.size(); split += 3) {
    TestClient client(proxyPort(server));
    client.send(header.substr(0, split));
    client.send(header.substr(split) + "line " + std::to_string(split) + "\nnext\n");
    EXPECT_EQ(client.readLine(), "echo : line " + std::to_string(split) + "\n");
    EXPECT_EQ(client.readLine(), "echo : next\n");
  }
  EXPECT_EQ(headers(server, Version::V2, Result::Proxied), (header.size() - 1 + 2) / 3);
}

TEST(ServerProxy, LocalAndUnknownAreServedWithTheSocketsOwnAddresses) {
  InProcessServer server(proxySettings());
  for (const std::string& header : {encodeProxyV2(std::nullopt, std::nullopt), std::string("PROXY UNKNOWN\r\n")}) {
    TestClient client(proxyPort(server));
    client.send(header + "health\n");
    EXPECT_EQ(client.readLine(), "echo : health\n");
    const auto view = onlyConnection(server);
    EXPECT_EQ(view.peer, localAddress(client));
    EXPECT_EQ(view.proxy, "");
    client.send("exit\n");
    EXPECT_EQ(client.readAll(), "FIN\n");
    ASSERT_TRUE(eventually([&] { return server.server().registry().size() == 0; }));
  }
  EXPECT_EQ(headers(server, Version::V2, Result::Local), 1u);
  EXPECT_EQ(headers(server, Version::V1, Result::Local), 1u);
}

TEST(ServerProxy, WhatIsNotAValidHeaderGetsErrBadProxyHeaderAndTheClose) {
  InProcessServer server(proxySettings());
  std::string wrongCrc =
      encodeProxyV2(ProxyAddress::inet({10, 0, 0, 1}, 1), ProxyAddress::inet({10, 0, 0, 2}, 2), {}, true);
  wrongCrc.back() ^= 1;
  const std::string cases[] = {"hello\n", "GET / HTTP/1.1\r\n\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
                               "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", wrongCrc};
  for (const std::string& input : cases) {
    TestClient client(proxyPort(server));
    client.send(input);
    EXPECT_EQ(client.readAll(), "ERR bad proxy header\n") << testing::PrintToString(input);
  }
  EXPECT_EQ(headers(server, Version::None, Result::Bad), 2u);
  EXPECT_EQ(headers(server, Version::V1, Result::Bad), 2u);
  EXPECT_EQ(headers(server, Version::V2, Result::Bad), 1u);
  // Each ERR is counted as its connection ends, after the client saw the close.
  EXPECT_TRUE(eventually(
      [&] { return server.server().metrics().errors[ServerMetrics::slot(ErrorReason::BadProxyHeader)].load() == 5u; }));
}

TEST(ServerProxy, AnIncompleteHeaderAtTheDeadlineGetsErrBadProxyHeader) {
  ServerSettings settings = proxySettings();
  settings.proxyHeaderTimeout = Poco::Timespan(0, 400 * 1000);
  InProcessServer server(settings);
  Poco::Stopwatch sinceConnect;  // "never early" counts from before the server's start
  sinceConnect.start();
  TestClient client(proxyPort(server));
  client.send("PROXY TCP4 203.0.113.7 ");
  // The deadline starts when a worker begins the header: the registry shows it.
  ASSERT_TRUE(eventually([&] {
    const auto views = connections(server);
    return views.size() == 1 && views[0].state == std::string("handshake");
  }));
  Poco::Stopwatch sinceReading;
  sinceReading.start();
  EXPECT_EQ(client.readAll(), "ERR bad proxy header\n");
  EXPECT_GE(sinceConnect.elapsed() / 1000, 400);
  EXPECT_LE(sinceReading.elapsed() / 1000, test::latestSeenMs(400));
  EXPECT_EQ(headers(server, Version::V1, Result::Timeout), 1u);
}

TEST(ServerProxy, AProxyThatOnlyConnectsAndClosesIsNoError) {
  InProcessServer server(proxySettings());
  {
    TestClient client(proxyPort(server));
    ASSERT_TRUE(eventually([&] { return server.server().registry().size() == 1; }));
  }
  ASSERT_TRUE(eventually([&] { return headers(server, Version::None, Result::Closed) == 1; }));
  ASSERT_TRUE(eventually([&] { return server.server().registry().size() == 0; }));  // ended, counted
  EXPECT_EQ(server.server().metrics().errors[ServerMetrics::slot(ErrorReason::BadProxyHeader)].load(), 0u);
}

TEST(ServerProxy, PeersOutsideProxyFromAreRefusedAtOnce) {
  ServerSettings settings = proxySettings();
  settings.proxyFrom = "10.0.0.0/8, fd00::/8";
  InProcessServer refusing(settings);
  TestClient refused(proxyPort(refusing));
  EXPECT_EQ(refused.readAll(), "ERR proxy not allowed\n");
  EXPECT_EQ(refusing.server().metrics().refused[ServerMetrics::slot(ErrorReason::ProxyNotAllowed)].load(), 1u);
  EXPECT_EQ(headers(refusing, Version::None, Result::NotAllowed), 1u);

  settings.proxyFrom = "10.0.0.0/8,127.0.0.0/8";
  InProcessServer allowing(settings);
  TestClient allowed(proxyPort(allowing));
  allowed.send(kClientV1 + "in\n");
  EXPECT_EQ(allowed.readLine(), "echo : in\n");
}

TEST(ServerProxy, ThePerAddressLimitCountsTheHeadersClientNotTheProxy) {
  ServerSettings settings = proxySettings();
  settings.maxConnectionsPerAddress = 1;
  InProcessServer server(settings);
  TestClient first(proxyPort(server));
  TestClient second(proxyPort(server));
  first.send("PROXY TCP4 203.0.113.1 192.0.2.1 1000 4570\r\none\n");
  second.send("PROXY TCP4 203.0.113.2 192.0.2.1 1000 4570\r\ntwo\n");
  EXPECT_EQ(first.readLine(), "echo : one\n");  // two clients behind one proxy address
  EXPECT_EQ(second.readLine(), "echo : two\n");
  TestClient third(proxyPort(server));
  third.send("PROXY TCP4 203.0.113.1 192.0.2.1 1001 4570\r\nthree\n");
  EXPECT_EQ(third.readAll(), "ERR too many connections\n");
  first.send("exit\n");
  EXPECT_EQ(first.readAll(), "FIN\n");
  ASSERT_TRUE(eventually([&] { return server.server().registry().size() == 1; }));
  TestClient again(proxyPort(server));  // its place is free again
  again.send("PROXY TCP4 203.0.113.1 192.0.2.1 1002 4570\r\nagain\n");
  EXPECT_EQ(again.readLine(), "echo : again\n");
}

TEST(ServerProxy, ThePlainPortNeverLooksForAHeader) {
  InProcessServer server(proxySettings());
  TestClient client(server.port());
  client.send(kClientV1);
  EXPECT_EQ(client.readLine(), "echo : PROXY TCP4 203.0.113.7 192.0.2.1 5555 4570\n");
  EXPECT_EQ(onlyConnection(server).proxy, "");
}

// ---- HAProxy, a real sender ----

void throughHaproxy(const std::string& sendProxy, Version version) {
  ServerSettings settings = proxySettings();
  settings.session.whoCommand = "who";
  InProcessServer server(settings);
  test::Haproxy haproxy(proxyPort(server), {sendProxy});
  if (!haproxy.running()) return;
  TestClient client(haproxy.port());
  client.send("through haproxy\n");
  EXPECT_EQ(client.readLine(), "echo : through haproxy\n");
  // HAProxy's connections from the readiness probe above may still be open:
  // this client's is the one whose header names this client's own address.
  const auto views = connections(server);
  const auto ours = std::find_if(views.begin(), views.end(),
                                 [&](const ConnectionRegistry::View& v) { return v.peer == localAddress(client); });
  ASSERT_NE(ours, views.end()) << "no connection names the client " << localAddress(client);
  EXPECT_NE(ours->proxy, ours->peer) << "the socket's peer is HAProxy's own address";
  EXPECT_GE(headers(server, version, Result::Proxied), 1u);
  // And as `who` tells it: the client is this socket, the peer HAProxy's, the header's version HAProxy's.
  client.send("who\n");
  Poco::JSON::Parser parser;
  const auto who = parser.parse(client.readLine()).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(who->getValue<std::string>("client"), localAddress(client));
  EXPECT_EQ(who->getValue<std::string>("peer"), ours->proxy);
  EXPECT_EQ(who->getObject("proxy")->getValue<int>("version"), version == Version::V1 ? 1 : 2);
  client.send("exit\n");
  EXPECT_EQ(client.readAll(), "FIN\n");
}

TEST(ServerProxy, HaproxySendProxyIsReadAsV1) { throughHaproxy("send-proxy", Version::V1); }

TEST(ServerProxy, HaproxySendProxyV2IsReadAsV2) { throughHaproxy("send-proxy-v2", Version::V2); }

}  // namespace
}  // namespace echod
