// Client certificates on the TLS listeners (docs/protocol.md, "Client
// certificates"): echo.tlsClientAuth=require refuses a client without a
// certificate that verifies, with OpenSSL's alert, counted and logged by
// reason; request serves a client without one; who's tls.client and
// {peer_identity} say who the client was; the client CAs are read again
// when their file changes; echo-client presents a certificate; the
// PROXY-then-TLS listener takes the same rules. openssl s_client is the
// independent client; the certificates come from TestCa (expired, not yet
// valid, a broken signature, another CA).
#include <gtest/gtest.h>

#include <Poco/File.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/TemporaryFile.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "ChildProcess.h"
#include "InProcessServer.h"
#include "TestCa.h"
#include "TestClient.h"
#include "TlsSupport.h"
#include "service/admin/MetricsText.h"

namespace echod {
namespace {

using test::ChildProcess;
using test::eventually;
using test::handshakes;
using test::InProcessServer;
using test::requireOpenssl;
using test::TestCa;
using test::TestClient;
using test::tlsPort;
using Handshake = ServerMetrics::Handshake;

constexpr const char* kSpiffeId = "spiffe://cluster.local/ns/default/sa/payments";

/// The clients' certificates: one good, and one for each way of being refused.
struct ClientCertificates {
  TestCa ca{"echod test CA"};
  TestCa other{"another CA"};
  TestCa::Files good, expired, notYetValid, badSignature, foreign, otherGood;
  ClientCertificates() {
    TestCa::Leaf leaf;
    leaf.subject = {{"O", "example"}, {"CN", "payments"}};
    leaf.sans = {{TestCa::San::Uri, kSpiffeId}, {TestCa::San::Dns, "payments.default.svc"}};
    good = ca.issue("good", leaf);
    TestCa::Leaf past = leaf;
    past.notBeforeSeconds = -2 * 86400;
    past.notAfterSeconds = -86400;
    expired = ca.issue("expired", past);
    TestCa::Leaf future = leaf;
    future.notBeforeSeconds = 86400;
    future.notAfterSeconds = 2 * 86400;
    notYetValid = ca.issue("not-yet-valid", future);
    TestCa::Leaf broken = leaf;
    broken.badSignature = true;
    badSignature = ca.issue("bad-signature", broken);
    foreign = other.issue("foreign", leaf);
    TestCa::Leaf rotated;
    rotated.subject = {{"CN", "after rotation"}};
    otherGood = other.issue("after-rotation", rotated);
  }
};

const ClientCertificates& clients() {
  static const ClientCertificates set;
  return set;
}

tls::ClientIdentity identityOf(const TestCa::Files& files) { return {files.certificate, files.key}; }

ServerSettings mtlsSettings(tls::ClientAuth auth, const std::string& clientCa = clients().ca.caFile()) {
  ServerSettings s = test::tlsTestSettings();
  s.tlsClientAuth = auth;
  s.tlsClientCa = clientCa;
  s.session.whoCommand = "who";
  return s;
}

/// Sends `line` and returns the answer; empty when the server refused the
/// certificate (with TLS 1.3 the client's handshake ends before the server's
/// verdict, which comes as an alert on the first read).
std::string exchange(std::uint16_t port, const tls::ClientIdentity& identity, const std::string& line) {
  try {
    TestClient client(test::tlsConnect(port, test::devCertificates().ca(), "127.0.0.1", {}, identity));
    client.send(line + "\n");
    return client.readLine();
  } catch (const Poco::Exception&) {
    return "";
  }
}

Poco::JSON::Object::Ptr tlsOfWho(std::uint16_t port, const tls::ClientIdentity& identity) {
  const std::string line = exchange(port, identity, "who");
  if (line.empty()) return nullptr;
  Poco::JSON::Parser parser;
  return parser.parse(line).extract<Poco::JSON::Object::Ptr>()->getObject("tls");
}

TEST(ServerMtls, RequireServesAVerifiedClientAndSaysWhoItWas) {
  ServerSettings s = mtlsSettings(tls::ClientAuth::Require);
  s.banner = "hello {peer_identity}";
  InProcessServer server(s);
  TestClient client(
      test::tlsConnect(tlsPort(server), test::devCertificates().ca(), "127.0.0.1", {}, identityOf(clients().good)));
  EXPECT_EQ(client.readLine(), std::string("hello ") + kSpiffeId + "\n");
  client.send("who\n");
  Poco::JSON::Parser parser;
  const auto who = parser.parse(client.readLine()).extract<Poco::JSON::Object::Ptr>();
  const auto certificate = who->getObject("tls")->getObject("client");
  ASSERT_TRUE(certificate);
  EXPECT_EQ(certificate->getValue<std::string>("subject"), "CN=payments,O=example");
  EXPECT_EQ(certificate->getValue<std::string>("issuer"), "CN=echod test CA");
  EXPECT_EQ(certificate->getValue<std::string>("serial"), "1000");
  EXPECT_EQ(certificate->getValue<std::string>("spiffe_id"), kSpiffeId);
  EXPECT_EQ(certificate->getObject("sans")->getArray("dns")->getElement<std::string>(0), "payments.default.svc");
  EXPECT_TRUE(certificate->getValue<bool>("verified"));
  EXPECT_EQ(handshakes(server, Handshake::Ok), 1U);
}

/// openssl s_client to the server, presenting `files` (none when null), sending one line.
struct SClient {
  std::string out, err;
};
SClient sClient(const std::string& openssl, std::uint16_t port, const TestCa::Files* files) {
  std::vector<std::string> args{"s_client",
                                "-connect",
                                "127.0.0.1:" + std::to_string(port),
                                "-CAfile",
                                test::devCertificates().ca(),
                                "-verify_return_error",
                                "-ign_eof"};
  if (files != nullptr) args.insert(args.end(), {"-cert", files->certificate, "-key", files->key});
  ChildProcess child(openssl, args);
  child.writeStdin("hi\nexit\n");
  child.closeStdin();
  child.waitForExit();
  return {child.out(), child.err()};
}

TEST(ServerMtls, RequireRefusesEachBadCertificateWithAnAlertAndCountsWhy) {
  const std::string openssl = requireOpenssl();
  if (openssl.empty()) return;
  InProcessServer server(mtlsSettings(tls::ClientAuth::Require));
  const auto& c = clients();
  const SClient good = sClient(openssl, tlsPort(server), &c.good);
  EXPECT_NE(good.out.find("echo : hi\nFIN\n"), std::string::npos) << good.out << good.err;
  EXPECT_NE(good.out.find("Acceptable client certificate CA names\nCN = echod test CA\n"), std::string::npos)
      << "the request names the client CAs: " << good.out;

  struct Refusal {
    const TestCa::Files* files;
    Handshake counted;
    const char* alert;  ///< as s_client reports OpenSSL's alert
  };
  const Refusal refusals[] = {
      {nullptr, Handshake::NoClientCertificate, "alert certificate required"},
      {&c.foreign, Handshake::ClientCertificateUnknownCa, "alert unknown ca"},
      {&c.expired, Handshake::ClientCertificateExpired, "alert certificate expired"},
      {&c.notYetValid, Handshake::ClientCertificateNotYetValid, "alert bad certificate"},
      {&c.badSignature, Handshake::ClientCertificateBadSignature, "alert decrypt error"},
  };
  for (const Refusal& r : refusals) {
    const std::string name = ServerMetrics::kHandshakeNames[static_cast<std::size_t>(r.counted)];
    const SClient refused = sClient(openssl, tlsPort(server), r.files);
    EXPECT_EQ(refused.out.find("echo : "), std::string::npos) << name << ": nothing is echoed\n" << refused.out;
    EXPECT_NE(refused.err.find(r.alert), std::string::npos) << name << "\n" << refused.err;
    EXPECT_TRUE(eventually([&] { return handshakes(server, r.counted) == 1; })) << name;
    EXPECT_NE(metricsText(server.server()).find("echod_tls_handshakes_total{result=\"" + name + "\"} 1\n"),
              std::string::npos)
        << name;
  }
  EXPECT_EQ(handshakes(server, Handshake::Ok), 1U);
  EXPECT_EQ(handshakes(server, Handshake::Failed) + handshakes(server, Handshake::ClientCertificateInvalid), 0U);
}

TEST(ServerMtls, RequestServesAClientWithoutACertificateButNotOneThatFails) {
  InProcessServer server(mtlsSettings(tls::ClientAuth::Request));
  const auto anonymous = tlsOfWho(tlsPort(server), {});
  ASSERT_TRUE(anonymous) << "served without a certificate";
  EXPECT_TRUE(anonymous->isNull("client"));
  const auto named = tlsOfWho(tlsPort(server), identityOf(clients().good));
  ASSERT_TRUE(named);
  EXPECT_EQ(named->getObject("client")->getValue<std::string>("spiffe_id"), kSpiffeId);
  EXPECT_TRUE(named->getObject("client")->getValue<bool>("verified"));
  EXPECT_EQ(exchange(tlsPort(server), identityOf(clients().expired), "hi"), "") << "given, it is verified";
  EXPECT_TRUE(eventually([&] { return handshakes(server, Handshake::ClientCertificateExpired) == 1; }));
  EXPECT_EQ(handshakes(server, Handshake::NoClientCertificate), 0U);
  EXPECT_EQ(handshakes(server, Handshake::Ok), 2U);
}

TEST(ServerMtls, NoneAsksForNoCertificate) {
  InProcessServer server(test::tlsTestSettings());
  // A client with a certificate to give is never asked for it.
  EXPECT_EQ(exchange(tlsPort(server), identityOf(clients().foreign), "hi"), "echo : hi\n");
}

TEST(ServerMtls, ARefusalIsLoggedWithTheClientsAddressAndWhy) {
  const auto& c = clients();
  ChildProcess server(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0", "--host=127.0.0.1", "--tls-port=0",
                                         "--tls-certificate=" + test::devCertificates().certificate(),
                                         "--tls-private-key=" + test::devCertificates().privateKey(),
                                         "--tls-client-auth=require", "--tls-client-ca=" + c.ca.caFile()});
  const auto listening = server.waitForStderrLine("listening for TLS on ");
  ASSERT_TRUE(listening) << server.err();
  EXPECT_NE(listening->find("client certificates required (CAs in " + c.ca.caFile() + ")"), std::string::npos)
      << *listening;
  const auto colon = listening->find(':');
  const auto port = static_cast<std::uint16_t>(std::stoi(listening->substr(colon + 1)));
  EXPECT_EQ(exchange(port, identityOf(c.expired), "hi"), "");
  const auto expired = server.waitForStderrLine("client_certificate_expired");
  ASSERT_TRUE(expired) << server.err();
  const std::string err = server.err();
  const auto line = err.substr(err.rfind('\n', err.find("client_certificate_expired")) + 1);
  EXPECT_NE(line.find("connection from 127.0.0.1:"), std::string::npos) << line;
  EXPECT_NE(line.find("TLS client certificate refused, certificate has expired (certificate /O=example/CN=payments)"),
            std::string::npos)
      << line;
  EXPECT_EQ(exchange(port, {}, "hi"), "");
  EXPECT_TRUE(server.waitForStderr("TLS client certificate required, none given (no_client_certificate)"))
      << server.err();
  server.signal(SIGTERM);
  EXPECT_EQ(server.waitForExit(), 0);
}

TEST(ServerMtls, EchoClientPresentsItsCertificate) {
  InProcessServer server(mtlsSettings(tls::ClientAuth::Require));
  const auto& c = clients();
  const std::vector<std::string> base{"--tls", "--port=" + std::to_string(tlsPort(server)),
                                      "--tls-ca=" + test::devCertificates().ca()};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), base.begin(), base.end());
    return extra;
  };
  ChildProcess who(ECHO_CLIENT_PATH,
                   with({"--tls-certificate=" + c.good.certificate, "--tls-private-key=" + c.good.key, "--who"}));
  EXPECT_EQ(who.waitForExit(), 0) << who.err();
  EXPECT_NE(who.out().find(std::string("\"spiffe_id\":\"") + kSpiffeId + "\",\"verified\":true"), std::string::npos)
      << who.out();

  // TLS 1.3: the client's handshake ends before the server's verdict, which
  // comes as an alert on the first read: a lost connection, exit 1.
  ChildProcess without(ECHO_CLIENT_PATH, with({"--send=hi"}));
  EXPECT_EQ(without.waitForExit(), 1) << without.out();
  EXPECT_NE(without.err().find("the server requires a client certificate (--tls-certificate, --tls-private-key)"),
            std::string::npos)
      << without.err();

  ChildProcess refused(ECHO_CLIENT_PATH, with({"--tls-certificate=" + c.foreign.certificate,
                                               "--tls-private-key=" + c.foreign.key, "--send=hi"}));
  EXPECT_EQ(refused.waitForExit(), 1) << refused.out();
  EXPECT_NE(refused.err().find("the server refused the client certificate (alert unknown ca)"), std::string::npos)
      << refused.err();

  ChildProcess mismatched(ECHO_CLIENT_PATH, with({"--tls-certificate=" + c.good.certificate,
                                                  "--tls-private-key=" + c.expired.key, "--send=hi"}));
  EXPECT_EQ(mismatched.waitForExit(), 64) << "a usage error";
  EXPECT_NE(mismatched.err().find("--tls-private-key file '" + c.expired.key + "'"), std::string::npos)
      << mismatched.err();
  ChildProcess alone(ECHO_CLIENT_PATH, with({"--tls-certificate=" + c.good.certificate, "--send=hi"}));
  EXPECT_EQ(alone.waitForExit(), 64);
  EXPECT_NE(alone.err().find("--tls-certificate and --tls-private-key go together"), std::string::npos) << alone.err();
}

TEST(ServerMtls, ThePROXYThenTlsListenerTakesTheSameRules) {
  ServerSettings s = mtlsSettings(tls::ClientAuth::Require);
  s.tlsPort = TlsSettings::kTlsOff;
  s.proxyTlsPort = 0;
  InProcessServer server(s);
  const auto& c = clients();
  const std::vector<std::string> args{"--tls", "--proxy-protocol=v2", "--proxy-source=203.0.113.9:4000",
                                      "--port=" + std::to_string(server.server().proxyTlsAddress().port()),
                                      "--tls-ca=" + test::devCertificates().ca()};
  std::vector<std::string> withCertificate = args;
  withCertificate.insert(withCertificate.end(),
                         {"--tls-certificate=" + c.good.certificate, "--tls-private-key=" + c.good.key, "--who"});
  ChildProcess who(ECHO_CLIENT_PATH, withCertificate);
  EXPECT_EQ(who.waitForExit(), 0) << who.err();
  EXPECT_NE(who.out().find("\"listener\":\"proxy-tls\""), std::string::npos) << who.out();
  EXPECT_NE(who.out().find("\"client\":\"203.0.113.9:4000\""), std::string::npos) << who.out();
  EXPECT_NE(who.out().find(std::string("\"spiffe_id\":\"") + kSpiffeId + "\""), std::string::npos) << who.out();
  std::vector<std::string> without = args;
  without.emplace_back("--send=hi");
  ChildProcess refused(ECHO_CLIENT_PATH, without);
  EXPECT_EQ(refused.waitForExit(), 1);
  EXPECT_NE(refused.err().find("the server requires a client certificate"), std::string::npos) << refused.err();
  EXPECT_TRUE(eventually([&] { return handshakes(server, Handshake::NoClientCertificate) == 1; }));
}

TEST(ServerMtls, TheClientCasAreReadAgainWhenTheirFileChanges) {
  const auto& c = clients();
  const std::string dir = Poco::TemporaryFile::tempName();
  Poco::File(dir).createDirectories();
  const std::string bundle = dir + "/client-ca.pem";
  Poco::File(c.ca.caFile()).copyTo(bundle);
  ServerSettings s = mtlsSettings(tls::ClientAuth::Require, bundle);
  s.tlsReloadInterval = Poco::Timespan(0, 100 * 1000);
  InProcessServer server(s);
  EXPECT_EQ(exchange(tlsPort(server), identityOf(c.good), "hi"), "echo : hi\n");
  // A session to resume later (openssl s_client keeps it in a file).
  const std::string openssl = requireOpenssl();
  const std::string session = dir + "/session.pem";
  const std::vector<std::string> sessionArgs{"s_client",
                                             "-connect",
                                             "127.0.0.1:" + std::to_string(tlsPort(server)),
                                             "-CAfile",
                                             test::devCertificates().ca(),
                                             "-cert",
                                             c.good.certificate,
                                             "-key",
                                             c.good.key,
                                             "-ign_eof"};
  const auto resume = [&](const std::string& option) {
    std::vector<std::string> args = sessionArgs;
    args.insert(args.end(), {option, session});
    ChildProcess child(openssl, args);
    child.writeStdin("resumed\nexit\n");
    child.closeStdin();
    child.waitForExit();
    return child.out();
  };
  if (!openssl.empty()) {
    EXPECT_NE(resume("-sess_out").find("echo : resumed"), std::string::npos);
    EXPECT_NE(resume("-sess_in").find("Reused, TLS"), std::string::npos) << "sessions resume until a rotation";
  }
  TestClient open(test::tlsConnect(tlsPort(server), test::devCertificates().ca(), "127.0.0.1", {}, identityOf(c.good)));
  open.send("before\n");
  EXPECT_EQ(open.readLine(), "echo : before\n");

  // cert-manager's way: a new file renamed over the old one.
  Poco::File(c.other.caFile()).copyTo(bundle + ".new");
  ASSERT_EQ(std::rename((bundle + ".new").c_str(), bundle.c_str()), 0);
  EXPECT_TRUE(eventually([&] { return server.server().certificates()->loaded() == 1; }));
  EXPECT_EQ(exchange(tlsPort(server), identityOf(c.otherGood), "hi"), "echo : hi\n") << "the new CA is trusted";
  EXPECT_EQ(exchange(tlsPort(server), identityOf(c.good), "hi"), "") << "the old one no longer";
  EXPECT_TRUE(eventually([&] { return handshakes(server, Handshake::ClientCertificateUnknownCa) == 1; }));
  if (!openssl.empty()) {
    const std::string out = resume("-sess_in");
    EXPECT_EQ(out.find("Reused"), std::string::npos) << "no session made under the old CAs resumes: " << out;
    EXPECT_EQ(out.find("echo : resumed"), std::string::npos) << out;
    EXPECT_TRUE(eventually([&] { return handshakes(server, Handshake::ClientCertificateUnknownCa) == 2; }));
  }
  open.send("after\n");
  EXPECT_EQ(open.readLine(), "echo : after\n") << "an open connection is untouched";

  // A bundle that does not load keeps the one in use.
  {
    FILE* broken = std::fopen((bundle + ".new").c_str(), "w");
    ASSERT_NE(broken, nullptr);
    std::fputs("not PEM\n", broken);
    std::fclose(broken);
  }
  ASSERT_EQ(std::rename((bundle + ".new").c_str(), bundle.c_str()), 0);
  EXPECT_TRUE(eventually([&] { return server.server().certificates()->failed() == 1; }));
  EXPECT_EQ(exchange(tlsPort(server), identityOf(c.otherGood), "hi"), "echo : hi\n");
  Poco::File(dir).remove(true);
}

}  // namespace
}  // namespace echod
