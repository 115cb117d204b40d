// ALPN on the TLS listener over loopback (docs/protocol.md, "ALPN";
// RFC 7301): the server's preference wins, who says what
// was agreed, a client offering none of the server's names gets the
// no_application_protocol alert and is counted, nothing is agreed when
// either side offers no ALPN; openssl s_client as the independent client;
// echo-client's --tls-alpn and --tls-server-name.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/SSLException.h>

#include <string>
#include <vector>

#include "ChildProcess.h"
#include "InProcessServer.h"
#include "TestClient.h"
#include "TlsSupport.h"
#include "service/admin/MetricsText.h"

namespace echod {
namespace {

using test::ChildProcess;
using test::eventually;
using test::InProcessServer;
using test::requireOpenssl;
using test::TestClient;
using test::tlsPort;

ServerSettings alpnSettings(std::vector<std::string> alpn) {
  ServerSettings s = test::tlsTestSettings();
  s.session.whoCommand = "who";
  s.tlsAlpn = std::move(alpn);
  return s;
}

/// The `tls` object of who, asked on a connection offering `offer`.
Poco::JSON::Object::Ptr tlsOfWho(InProcessServer& server, const std::vector<std::string>& offer) {
  TestClient client(test::tlsConnect(tlsPort(server), test::devCertificates().ca(), "127.0.0.1", offer));
  client.send("who\n");
  Poco::JSON::Parser parser;
  const auto who = parser.parse(client.readLine()).extract<Poco::JSON::Object::Ptr>();
  return who->getObject("tls");
}

std::uint64_t refusedForAlpn(InProcessServer& server) {
  return server.server()
      .metrics()
      .tlsHandshakes[static_cast<std::size_t>(ServerMetrics::Handshake::NoApplicationProtocol)]
      .load();
}

TEST(ServerAlpn, TheServersPreferenceWinsAndWhoSaysWhatWasAgreed) {
  InProcessServer server(alpnSettings({"h2", "http/1.1"}));
  auto tls = tlsOfWho(server, {"http/1.1", "h2"});
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->getValue<std::string>("alpn"), "h2");
  EXPECT_TRUE(tls->isNull("client")) << "no client certificate is asked for";
  tls = tlsOfWho(server, {"foo", "http/1.1"});
  EXPECT_EQ(tls->getValue<std::string>("alpn"), "http/1.1");
}

TEST(ServerAlpn, AClientOfferingNoneOfTheServersNamesGetsTheAlertAndIsCounted) {
  InProcessServer server(alpnSettings({"h2"}));
  EXPECT_THROW(test::tlsConnect(tlsPort(server), test::devCertificates().ca(), "127.0.0.1", {"foo", "bar"}),
               Poco::Net::SSLException);
  EXPECT_TRUE(eventually([&] { return refusedForAlpn(server) == 1; }));
  EXPECT_TRUE(eventually([&] {
    return metricsText(server.server()).find("echod_tls_handshakes_total{result=\"no_application_protocol\"} 1\n") !=
           std::string::npos;
  }));
  EXPECT_EQ(server.server().metrics().tlsHandshakes[0].load(), 0U) << "no handshake succeeded";
  // Others are served all the while.
  EXPECT_EQ(tlsOfWho(server, {"h2"})->getValue<std::string>("alpn"), "h2");
}

TEST(ServerAlpn, NothingIsAgreedWhenEitherSideOffersNoAlpn) {
  InProcessServer withAlpn(alpnSettings({"h2"}));
  EXPECT_TRUE(tlsOfWho(withAlpn, {})->isNull("alpn")) << "a client that offers none is served without ALPN";
  InProcessServer without(alpnSettings({}));
  EXPECT_TRUE(tlsOfWho(without, {"h2"})->isNull("alpn")) << "a server without echo.tlsAlpn agrees to nothing";
  EXPECT_EQ(refusedForAlpn(withAlpn) + refusedForAlpn(without), 0U);
}

TEST(ServerAlpn, OpensslSClientIsAgreedWithOrRefusedWithAlert120) {
  const std::string openssl = requireOpenssl();
  if (openssl.empty()) return;
  InProcessServer server(alpnSettings({"h2", "http/1.1"}));
  const std::string target = "127.0.0.1:" + std::to_string(tlsPort(server));
  ChildProcess agreed(openssl, {"s_client", "-connect", target, "-CAfile", test::devCertificates().ca(),
                                "-verify_return_error", "-alpn", "http/1.1,h2", "-ign_eof"});
  agreed.writeStdin("over h2\nexit\n");
  agreed.closeStdin();
  EXPECT_EQ(agreed.waitForExit(), 0) << agreed.err();
  EXPECT_NE(agreed.out().find("ALPN protocol: h2\n"), std::string::npos) << agreed.out();
  EXPECT_NE(agreed.out().find("echo : over h2\nFIN\n"), std::string::npos) << agreed.out();

  ChildProcess refused(
      openssl, {"s_client", "-connect", target, "-CAfile", test::devCertificates().ca(), "-alpn", "foo", "-quiet"});
  refused.writeStdin("never echoed\n");
  refused.closeStdin();
  refused.waitForExit();
  EXPECT_NE(refused.err().find("alert no application protocol"), std::string::npos) << refused.err();
  EXPECT_NE(refused.err().find("SSL alert number 120"), std::string::npos) << refused.err();
  EXPECT_EQ(refused.out().find("echo"), std::string::npos) << refused.out();
  EXPECT_TRUE(eventually([&] { return refusedForAlpn(server) == 1; }));
}

TEST(ServerAlpn, TheClientOffersAlpnAndSetsTheServerNameButNeverAnAddress) {
  InProcessServer server(alpnSettings({"h2", "http/1.1"}));
  const std::string port = "--port=" + std::to_string(tlsPort(server));
  const std::string ca = "--tls-ca=" + test::devCertificates().ca();
  ChildProcess who(ECHO_CLIENT_PATH,
                   {"--tls", port, ca, "--tls-alpn=http/1.1", "--tls-server-name=localhost", "--who"});
  EXPECT_EQ(who.waitForExit(), 0) << who.err();
  EXPECT_NE(who.out().find("\"sni\":\"localhost\",\"alpn\":\"http/1.1\""), std::string::npos) << who.out();

  // RFC 6066: an IP address is not sent as a server name; it is still the name checked.
  ChildProcess byAddress(ECHO_CLIENT_PATH, {"--tls", port, ca, "--who"});
  EXPECT_EQ(byAddress.waitForExit(), 0) << byAddress.err();
  EXPECT_NE(byAddress.out().find("\"sni\":null,\"alpn\":null"), std::string::npos) << byAddress.out();

  ChildProcess refused(ECHO_CLIENT_PATH, {"--tls", port, ca, "--tls-alpn=foo", "--send=hi"});
  EXPECT_EQ(refused.waitForExit(), 2) << refused.out();
  EXPECT_NE(refused.err().find("none of the ALPN protocols offered (--tls-alpn)"), std::string::npos) << refused.err();

  // The name sent is the name checked: the certificate does not name elsewhere.example.
  ChildProcess wrongName(ECHO_CLIENT_PATH, {"--tls", port, ca, "--tls-server-name=elsewhere.example", "--send=hi"});
  EXPECT_EQ(wrongName.waitForExit(), 2);
  EXPECT_NE(wrongName.err().find("hostname mismatch"), std::string::npos) << wrongName.err();
}

}  // namespace
}  // namespace echod
