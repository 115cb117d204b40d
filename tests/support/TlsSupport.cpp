#include "TlsSupport.h"

#include <gtest/gtest.h>

#include <Poco/Environment.h>
#include <Poco/File.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Process.h>
#include <Poco/StringTokenizer.h>
#include <Poco/TemporaryFile.h>

#include <stdexcept>

#include "InProcessServer.h"
#include "TestClient.h"
#include "tls/TlsContext.h"

namespace echod::test {
namespace {

/// Runs scripts/dev-cert.sh into a fresh temporary directory.
class GeneratedCertificates {
 public:
  GeneratedCertificates(const std::string& days, const std::string& names) {
    _certificates.dir = Poco::TemporaryFile::tempName();
    Poco::Process::Env env;
    env["ECHOD_CERT_DAYS"] = days;
    if (!names.empty()) env["ECHOD_CERT_NAMES"] = names;
    Poco::ProcessHandle handle =
        Poco::Process::launch("/bin/sh", {std::string(ECHO_SOURCE_DIR) + "/scripts/dev-cert.sh", _certificates.dir},
                              nullptr, nullptr, nullptr, env);
    if (handle.wait() != 0) throw std::runtime_error("scripts/dev-cert.sh failed (is openssl installed?)");
  }
  ~GeneratedCertificates() {
    try {
      Poco::File(_certificates.dir).remove(true);
    } catch (...) {
      // A temporary directory left behind is not worth failing for.
    }
  }
  const Certificates& get() const { return _certificates; }

 private:
  Certificates _certificates;
};

}  // namespace

const Certificates& devCertificates() {
  static const GeneratedCertificates set("30", "");
  return set.get();
}

const Certificates& expiredCertificates() {
  static const GeneratedCertificates set("-1", "");
  return set.get();
}

const Certificates& elsewhereCertificates() {
  static const GeneratedCertificates set("30", "DNS:elsewhere.example");
  return set.get();
}

const Certificates& rotatedCertificates() {
  static const GeneratedCertificates set("30", "");
  return set.get();
}

ServerSettings tlsTestSettings(const Certificates& certificates) {
  ServerSettings s = testSettings();
  s.tlsPort = 0;
  s.tlsCertificate = certificates.certificate();
  s.tlsPrivateKey = certificates.privateKey();
  return s;
}

Poco::Net::StreamSocket tlsConnect(std::uint16_t port, const std::string& ca, const std::string& host,
                                   const std::vector<std::string>& alpn, const tls::ClientIdentity& identity) {
  const auto context = tls::clientContext(tls::ClientTrust{ca, ca.empty()}, host, alpn, identity);
  Poco::Net::StreamSocket plain;
  plain.connect(Poco::Net::SocketAddress(host, port), kDeadline);
  plain.setNoDelay(true);
  plain.setReceiveTimeout(kDeadline);
  plain.setSendTimeout(kDeadline);
  Poco::Net::SecureStreamSocket secure = Poco::Net::SecureStreamSocket::attach(plain, host, context);
  return secure;
}

std::string findProgram(const std::string& name) {
  const Poco::StringTokenizer dirs(Poco::Environment::get("PATH", "/usr/bin:/bin"), ":",
                                   Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  for (const auto& dir : dirs) {
    const Poco::File candidate(dir + "/" + name);
    if (candidate.exists() && candidate.canExecute()) return candidate.path();
  }
  return {};
}

std::string requireOpenssl() {
  const std::string path = findProgram("openssl");
  if (path.empty()) ADD_FAILURE() << "openssl is not installed (scripts/install-deps.sh test installs it)";
  return path;
}

std::uint16_t tlsPort(InProcessServer& server) { return server.server().tlsAddress().port(); }

std::uint64_t handshakes(InProcessServer& server, ServerMetrics::Handshake result) {
  return server.server().metrics().tlsHandshakes[static_cast<std::size_t>(result)].load();
}

}  // namespace echod::test
