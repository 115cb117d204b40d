// The TLS listener over loopback: the same protocol inside TLS, drain and
// close_notify, handshake stalls and plain text on the TLS port, bad
// certificate files, and independent clients (openssl s_client, ncat --ssl).
#include <gtest/gtest.h>

#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Stopwatch.h>

#include <openssl/ssl.h>

#include <future>
#include <string>

#include "ChildProcess.h"
#include "InProcessServer.h"
#include "TestClient.h"
#include "TlsSupport.h"
#include "service/admin/AdminServer.h"
#include "service/admin/MetricsText.h"

namespace echod {
namespace {

using test::ChildProcess;
using test::eventually;
using test::handshakes;
using test::InProcessServer;
using test::TestClient;
using test::tlsConnect;
using test::tlsPort;
using test::tlsTestSettings;

TEST(ServerTls, EchoesAndAnswersExitWithFinThenCloseNotify) {
  InProcessServer server(tlsTestSettings());
  TestClient client(tlsConnect(tlsPort(server)));
  client.send("bonjour\n");
  EXPECT_EQ(client.readLine(), "echo : bonjour\n");
  client.send("exit\n");
  EXPECT_EQ(client.readAll(), "FIN\n");
  EXPECT_FALSE(client.tlsClosedUncleanly()) << "no close_notify before the TCP close";
  EXPECT_FALSE(client.wasReset());
  EXPECT_TRUE(eventually([&] { return handshakes(server, ServerMetrics::Handshake::Ok) == 1; }));
}

TEST(ServerTls, PipelinedLinesAreAnsweredInOrder) {
  InProcessServer server(tlsTestSettings());
  TestClient client(tlsConnect(tlsPort(server)));
  std::string sent;
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    sent += "line " + std::to_string(i) + "\n";
    expected += "echo : line " + std::to_string(i) + "\n";
  }
  client.send(sent + "exit\n");
  EXPECT_EQ(client.readAll(), expected + "FIN\n");
}

TEST(ServerTls, BothListenersShareOneRegistryAndTheMetricsNameTheListener) {
  InProcessServer server(tlsTestSettings());
  TestClient plain(server.port());
  TestClient secure(tlsConnect(tlsPort(server)));
  plain.send("a\n");
  secure.send("b\n");
  EXPECT_EQ(plain.readLine(), "echo : a\n");
  EXPECT_EQ(secure.readLine(), "echo : b\n");
  const auto gauges = server.server().gauges();
  EXPECT_EQ(gauges.openConnections, 2U);
  EXPECT_EQ(gauges.openByListener[0], 1U);
  EXPECT_EQ(gauges.openByListener[1], 1U);
  const std::string metrics = metricsText(server.server());
  EXPECT_NE(metrics.find("echod_listener_connections_open{listener=\"tls\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("echod_listener_connections_total{listener=\"plain\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("echod_tls_handshakes_total{result=\"ok\"} 1\n"), std::string::npos);
}

TEST(ServerTls, IdleTimeoutIsAnsweredInsideTls) {
  ServerSettings settings = tlsTestSettings();
  settings.idleTimeout = Poco::Timespan(0, 300000);
  InProcessServer server(settings);
  TestClient client(tlsConnect(tlsPort(server)));
  client.send("one\n");
  EXPECT_EQ(client.readLine(), "echo : one\n");
  EXPECT_EQ(client.readAll(), "ERR idle timeout\n");
  EXPECT_FALSE(client.tlsClosedUncleanly());
}

TEST(ServerTls, DrainSendsFinInsideTlsThenCloseNotify) {
  InProcessServer server(tlsTestSettings());
  TestClient client(tlsConnect(tlsPort(server)));
  client.send("before\n");
  EXPECT_EQ(client.readLine(), "echo : before\n");
  auto stopped = std::async(std::launch::async, [&] { return server.server().shutdown(); });
  EXPECT_EQ(client.readAll(), "FIN\n");
  EXPECT_FALSE(client.tlsClosedUncleanly()) << "no close_notify after the drain's FIN";
  EXPECT_TRUE(stopped.get());
}

TEST(ServerTls, PlainTextOnTheTlsPortIsClosedAndCountedWhileOthersAreServed) {
  InProcessServer server(tlsTestSettings());
  TestClient other(tlsConnect(tlsPort(server)));
  TestClient plain(tlsPort(server));
  plain.send("hello, is this TLS?\n");
  bool closed = false;
  const std::string answer = plain.readUntilClosed(closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(answer.find("echo"), std::string::npos) << "plain text must never be echoed on the TLS port";
  EXPECT_TRUE(eventually([&] { return handshakes(server, ServerMetrics::Handshake::NotTls) == 1; }));
  other.send("still here\n");
  EXPECT_EQ(other.readLine(), "echo : still here\n");
  EXPECT_EQ(server.server().gauges().openConnections, 1U);
}

TEST(ServerTls, AClientThatStallsMidHandshakeIsClosedAtTheHandshakeTimeout) {
  ServerSettings settings = tlsTestSettings();
  settings.tlsHandshakeTimeout = Poco::Timespan(0, 300000);
  InProcessServer server(settings);
  Poco::Stopwatch clock;  // started before the connects: no later than either handshake's start
  clock.start();
  TestClient silent(tlsPort(server));  // connects, never says a word
  TestClient partial(tlsPort(server));
  partial.send(std::string("\x16\x03\x01\x02\x00\x01", 6));  // the start of a ClientHello, then nothing
  bool closed = false;
  silent.readUntilClosed(closed);
  EXPECT_TRUE(closed);
  partial.readUntilClosed(closed);
  EXPECT_TRUE(closed);
  EXPECT_GE(clock.elapsed(), 250000) << "closed before the handshake timeout";
  EXPECT_TRUE(eventually([&] { return handshakes(server, ServerMetrics::Handshake::Timeout) == 2; }));
  EXPECT_TRUE(eventually([&] { return server.server().gauges().openConnections == 0; }));
  // Served again at once: the stalls held nobody up.
  TestClient next(tlsConnect(tlsPort(server)));
  next.send("after\n");
  EXPECT_EQ(next.readLine(), "echo : after\n");
}

TEST(ServerTls, TheMinimumVersionRefusesOlderClients) {
  ServerSettings settings = tlsTestSettings();
  settings.tlsMinVersion = tls::MinVersion::Tls13;
  InProcessServer server(settings);
  const auto context = tls::clientContext(tls::ClientTrust{test::devCertificates().ca(), false}, "127.0.0.1", {});
  SSL_CTX_set_max_proto_version(context->sslContext(), TLS1_2_VERSION);
  Poco::Net::StreamSocket plain;
  plain.connect(Poco::Net::SocketAddress("127.0.0.1", tlsPort(server)), test::kDeadline);
  plain.setReceiveTimeout(test::kDeadline);
  EXPECT_THROW(Poco::Net::SecureStreamSocket::attach(plain, "127.0.0.1", context), Poco::Exception);
  EXPECT_TRUE(eventually([&] { return handshakes(server, ServerMetrics::Handshake::Failed) == 1; }));
  TestClient modern(tlsConnect(tlsPort(server)));
  modern.send("1.3\n");
  EXPECT_EQ(modern.readLine(), "echo : 1.3\n");
}

TEST(ServerTls, UnusableCertificateOrKeyFilesNameTheSettingAndTheFile) {
  const auto expectRefused = [](ServerSettings settings, const std::string& setting, const std::string& file) {
    try {
      EchoServer server(settings);
      ADD_FAILURE() << "started with " << setting << " = " << file;
    } catch (const SettingsError& e) {
      const std::string text = e.what();
      EXPECT_NE(text.find(setting), std::string::npos) << text;
      EXPECT_NE(text.find(file), std::string::npos) << text;
    }
  };
  ServerSettings missing = tlsTestSettings();
  missing.tlsCertificate = "/nonexistent/server.pem";
  expectRefused(missing, "echo.tlsCertificate", "/nonexistent/server.pem");
  ServerSettings keyAsCertificate = tlsTestSettings();
  keyAsCertificate.tlsCertificate = test::devCertificates().privateKey();
  expectRefused(keyAsCertificate, "echo.tlsCertificate", test::devCertificates().privateKey());
  ServerSettings certificateAsKey = tlsTestSettings();
  certificateAsKey.tlsPrivateKey = test::devCertificates().certificate();
  expectRefused(certificateAsKey, "echo.tlsPrivateKey", test::devCertificates().certificate());
  ServerSettings mismatched = tlsTestSettings();
  mismatched.tlsPrivateKey = test::expiredCertificates().privateKey();
  expectRefused(mismatched, "echo.tlsPrivateKey", "does not belong");
}

TEST(ServerTls, ABadCertificateFileStopsTheServerWithOneLineAndExit78) {
  ChildProcess server(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0", "--host=127.0.0.1", "--tls-port=0",
                                         "--tls-certificate=/nonexistent/cert.pem",
                                         "--tls-private-key=" + test::devCertificates().privateKey()});
  EXPECT_EQ(server.waitForExit(), 78);
  EXPECT_NE(server.err().find("echo.tlsCertificate (--tls-certificate, ECHO_TLS_CERTIFICATE) file "
                              "'/nonexistent/cert.pem': No such file or directory"),
            std::string::npos)
      << server.err();
}

TEST(ServerTls, TheClientChecksTheCertificateAndSaysWhyItRefusesOne) {
  InProcessServer good(tlsTestSettings());
  InProcessServer expired(tlsTestSettings(test::expiredCertificates()));
  InProcessServer elsewhere(tlsTestSettings(test::elsewhereCertificates()));
  const auto check = [](std::uint16_t port, const std::string& ca, const std::string& host = "127.0.0.1") {
    auto client = std::make_unique<ChildProcess>(
        ECHO_CLIENT_PATH, std::vector<std::string>{"--check", "--tls", "--host=" + host,
                                                   "--port=" + std::to_string(port), "--tls-ca=" + ca});
    client->waitForExit();
    return client;
  };
  auto ok = check(tlsPort(good), test::devCertificates().ca());
  EXPECT_EQ(ok->waitForExit(), 0) << ok->out() << ok->err();
  EXPECT_NE(ok->out().find("ok: 127.0.0.1:"), std::string::npos) << ok->out();

  auto old = check(tlsPort(expired), test::expiredCertificates().ca());
  EXPECT_EQ(old->waitForExit(), 1);
  EXPECT_NE(old->out().find("certificate has expired"), std::string::npos) << old->out();

  auto wrongName = check(tlsPort(elsewhere), test::elsewhereCertificates().ca());
  EXPECT_EQ(wrongName->waitForExit(), 1);
  EXPECT_NE(wrongName->out().find("IP address mismatch"), std::string::npos) << wrongName->out();
  auto wrongHost = check(tlsPort(elsewhere), test::elsewhereCertificates().ca(), "localhost");
  EXPECT_EQ(wrongHost->waitForExit(), 1);
  EXPECT_NE(wrongHost->out().find("hostname mismatch"), std::string::npos) << wrongHost->out();

  auto untrusted = check(tlsPort(good), test::expiredCertificates().ca());
  EXPECT_EQ(untrusted->waitForExit(), 1);
  EXPECT_NE(untrusted->out().find("unable to get local issuer certificate"), std::string::npos) << untrusted->out();

  ChildProcess insecure(ECHO_CLIENT_PATH,
                        {"--check", "--tls", "--tls-insecure", "--port=" + std::to_string(tlsPort(expired))});
  EXPECT_EQ(insecure.waitForExit(), 0) << insecure.out();
}

TEST(ServerTls, TheClientWorksInteractivelyScriptedAndAsALoadGenerator) {
  InProcessServer server(tlsTestSettings());
  const std::string port = "--port=" + std::to_string(tlsPort(server));
  const std::string ca = "--tls-ca=" + test::devCertificates().ca();
  ChildProcess typed(ECHO_CLIENT_PATH, {"--tls", port, ca});
  typed.writeStdin("first\nsecond\n");
  ASSERT_TRUE(typed.waitForStdout("echo : second\n")) << typed.err();
  typed.closeStdin();  // close_notify: the server ends the session too
  EXPECT_EQ(typed.waitForExit(), 0) << typed.err();
  EXPECT_EQ(typed.out(), "echo : first\necho : second\n");

  ChildProcess scripted(ECHO_CLIENT_PATH, {"--tls", port, ca, "--send=bonjour", "--send=<b>x</b>"});
  EXPECT_EQ(scripted.waitForExit(), 0) << scripted.err();
  EXPECT_EQ(scripted.out(), "echo : bonjour\necho : <b>x</b>\nFIN\n");

  ChildProcess bench(ECHO_CLIENT_PATH, {"--tls", port, ca, "--bench", "--workload=connect", "--connections=2",
                                        "--duration=0.5", "--json"});
  EXPECT_EQ(bench.waitForExit(), 0) << bench.out() << bench.err();
  EXPECT_NE(bench.out().find("\"errors\":0,"), std::string::npos) << bench.out();
  EXPECT_EQ(bench.out().find("\"handshakes_per_second\":0.0,"), std::string::npos) << bench.out();
  EXPECT_NE(bench.out().find("\"handshakes_per_second\":"), std::string::npos) << bench.out();
}

/// An independent TLS client (a Debian package) must be present: in CI a missing one fails the run.
std::string requireProgram(const std::string& name) {
  const std::string path = test::findProgram(name);
  if (path.empty()) ADD_FAILURE() << name << " is not installed (scripts/install-deps.sh test installs it)";
  return path;
}

TEST(ServerTls, OpensslSClientIsServedAsAnyClient) {
  const std::string openssl = requireProgram("openssl");
  if (openssl.empty()) return;
  InProcessServer server(tlsTestSettings());
  ChildProcess client(openssl,
                      {"s_client", "-connect", "127.0.0.1:" + std::to_string(tlsPort(server)), "-CAfile",
                       test::devCertificates().ca(), "-verify_return_error", "-verify_ip", "127.0.0.1", "-quiet"});
  client.writeStdin("from openssl\nexit\n");
  client.closeStdin();
  EXPECT_EQ(client.waitForExit(), 0) << client.err();
  EXPECT_EQ(client.out(), "echo : from openssl\nFIN\n") << client.err();
}

TEST(ServerTls, NcatSslIsServedAsAnyClient) {
  const std::string ncat = requireProgram("ncat");
  if (ncat.empty()) return;
  InProcessServer server(tlsTestSettings());
  // ncat checks DNS names only, so it connects by name.
  ChildProcess client(ncat, {"--ssl", "--ssl-verify", "--ssl-trustfile", test::devCertificates().ca(), "localhost",
                             std::to_string(tlsPort(server))});
  client.writeStdin("from ncat\nexit\n");
  client.closeStdin();
  EXPECT_EQ(client.waitForExit(), 0) << client.err();
  EXPECT_EQ(client.out(), "echo : from ncat\nFIN\n") << client.err();
}

}  // namespace
}  // namespace echod
