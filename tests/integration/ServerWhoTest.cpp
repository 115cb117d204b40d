// Who answered, over loopback (docs/protocol.md, "Who answered"): the who
// command's JSON on the plain, PROXY and TLS listeners and in raw framing, the
// banner, and the placeholders of banner and prefix.
#include <gtest/gtest.h>

#include <Poco/Environment.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <string>

#include "InProcessServer.h"
#include "TestClient.h"
#include "TlsSupport.h"
#include "protocol/ProxyHeader.h"

namespace echod {
namespace {

using test::InProcessServer;
using test::TestClient;

ServerSettings whoSettings() {
  ServerSettings s = test::testSettings();
  s.session.whoCommand = "who";
  return s;
}

Poco::JSON::Object::Ptr parsed(const std::string& line) {
  Poco::JSON::Parser parser;
  return parser.parse(line).extract<Poco::JSON::Object::Ptr>();
}

std::string text(const Poco::JSON::Object::Ptr& o, const std::string& key) { return o->getValue<std::string>(key); }

TEST(ServerWho, ThePlainListenerTellsWhoAnsweredAndWhoAsked) {
  InProcessServer server(whoSettings());
  TestClient client(server.port());
  client.send("who\r\n");
  const std::string line = client.readLine();
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  const auto who = parsed(line);
  EXPECT_EQ(text(who, "hostname"), Poco::Environment::nodeName());
  EXPECT_TRUE(who->isNull("pod"));
  EXPECT_TRUE(who->isNull("namespace"));
  EXPECT_TRUE(who->isNull("node"));
  EXPECT_EQ(text(who, "listener"), "plain");
  EXPECT_EQ(text(who, "local"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(text(who, "peer"), client.socket().address().toString());
  EXPECT_EQ(text(who, "client"), text(who, "peer"));
  EXPECT_TRUE(who->isNull("proxy"));
  EXPECT_TRUE(who->isNull("tls"));
  client.send("whom\nexit\n");  // the connection goes on; only the exact command answers
  EXPECT_EQ(client.readAll(), "echo : whom\nFIN\n");
}

TEST(ServerWho, ThroughThePROXYListenerTheClientIsTheHeadersSourceWithItsTlvs) {
  ServerSettings settings = whoSettings();
  settings.proxyPort = 0;
  InProcessServer server(settings);
  TestClient client(server.server().proxyAddress().port());
  client.send(encodeProxyV2(ProxyAddress::fromText("2001:db8::7", 40000), ProxyAddress::fromText("2001:db8::1", 4570),
                            {{0x01, "h2"}, {0x05, std::string("\x01\xff", 2)}, {0xEA, "\x01vpce-123"}, {0xE0, "x"}}) +
              "who\n");
  const auto who = parsed(client.readLine());
  EXPECT_EQ(text(who, "listener"), "proxy");
  EXPECT_EQ(text(who, "client"), "[2001:db8::7]:40000");
  EXPECT_EQ(text(who, "peer"), client.socket().address().toString());
  const auto proxy = who->getObject("proxy");
  ASSERT_TRUE(proxy);
  EXPECT_EQ(proxy->getValue<int>("version"), 2);
  EXPECT_EQ(text(proxy, "command"), "PROXY");
  EXPECT_EQ(text(proxy, "source"), "[2001:db8::7]:40000");
  EXPECT_EQ(text(proxy, "destination"), "[2001:db8::1]:4570");
  const auto tlvs = proxy->getObject("tlvs");
  ASSERT_TRUE(tlvs);
  EXPECT_EQ(text(tlvs, "alpn"), "h2");
  EXPECT_EQ(text(tlvs, "unique_id"), "01ff");
  EXPECT_EQ(text(tlvs, "aws_vpce_id"), "vpce-123");
  EXPECT_EQ(text(tlvs, "0xe0"), "78");
}

TEST(ServerWho, ALocalHeaderShowsTheSocketsOwnAddresses) {
  ServerSettings settings = whoSettings();
  settings.proxyPort = 0;
  InProcessServer server(settings);
  TestClient client(server.server().proxyAddress().port());
  client.send("PROXY UNKNOWN\r\nwho\n");
  const auto who = parsed(client.readLine());
  EXPECT_EQ(text(who, "client"), client.socket().address().toString());
  const auto proxy = who->getObject("proxy");
  ASSERT_TRUE(proxy);
  EXPECT_EQ(proxy->getValue<int>("version"), 1);
  EXPECT_EQ(text(proxy, "command"), "LOCAL");
  EXPECT_TRUE(proxy->isNull("source"));
}

TEST(ServerWho, TheTlsListenerAddsTheSession) {
  ServerSettings settings = test::tlsTestSettings();
  settings.session.whoCommand = "who";
  InProcessServer server(settings);
  TestClient client(test::tlsConnect(server.server().tlsAddress().port()));
  client.send("who\n");
  const auto who = parsed(client.readLine());
  EXPECT_EQ(text(who, "listener"), "tls");
  const auto tls = who->getObject("tls");
  ASSERT_TRUE(tls);
  EXPECT_EQ(text(tls, "version").rfind("TLSv1.", 0), 0u) << text(tls, "version");
  EXPECT_FALSE(text(tls, "cipher").empty());
}

TEST(ServerWho, RawFramingAnswersWithoutANewline) {
  ServerSettings settings = whoSettings();
  settings.session.framing = Framing::Raw;
  InProcessServer server(settings);
  TestClient client(server.port());
  client.send("who");
  const std::string reply = client.read(1);
  ASSERT_EQ(reply, "{");
  // No newline ends it: it is complete when its braces close (it holds nested objects).
  std::string json = reply;
  for (int depth = 1; depth > 0 && json.size() < 65536;) {
    const std::string byte = client.read(1);
    ASSERT_EQ(byte.size(), 1u) << json;
    json += byte;
    depth += byte == "{" ? 1 : byte == "}" ? -1 : 0;
  }
  EXPECT_EQ(text(parsed(json), "listener"), "plain");
  client.send("exit");
  EXPECT_EQ(client.readAll(), "FIN");
}

TEST(ServerWho, TheBannerComesFirstWithItsPlaceholdersFilled) {
  ServerSettings settings = test::testSettings();
  settings.banner = "hello from {hostname} on {listener}, you are {client}";
  settings.session.prefix = "{pod} says: ";
  InProcessServer server(settings);
  TestClient client(server.port());
  const std::string host = Poco::Environment::nodeName();
  EXPECT_EQ(client.readLine(),
            "hello from " + host + " on plain, you are " + client.socket().address().toString() + "\n");
  client.send("x\n");
  EXPECT_EQ(client.readLine(), host + " says: x\n");  // {pod}: the host name outside Kubernetes
}

TEST(ServerWho, TheBannerFollowsThePROXYHeaderAndNamesItsClient) {
  ServerSettings settings = test::testSettings();
  settings.proxyPort = 0;
  settings.banner = "{client}";
  InProcessServer server(settings);
  TestClient client(server.server().proxyAddress().port());
  client.send("PROXY TCP4 203.0.113.7 192.0.2.1 5555 4570\r\n");
  EXPECT_EQ(client.readLine(), "203.0.113.7:5555\n");
}

}  // namespace
}  // namespace echod
