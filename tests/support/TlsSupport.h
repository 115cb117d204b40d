#pragma once

#include <Poco/Net/StreamSocket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "service/server/ServerMetrics.h"
#include "service/server/ServerSettings.h"
#include "tls/TlsContext.h"

namespace echod::test {

class InProcessServer;

/// A certificate set made by scripts/dev-cert.sh in a temporary directory,
/// removed when the test program ends.
struct Certificates {
  std::string dir;
  std::string certificate() const { return dir + "/server.pem"; }
  std::string privateKey() const { return dir + "/server.key"; }
  std::string ca() const { return dir + "/ca.pem"; }
};

/// The development set: valid, naming localhost, 127.0.0.1 and ::1.
const Certificates& devCertificates();
/// Signed by its own CA, and expired yesterday.
const Certificates& expiredCertificates();
/// Valid, but naming only elsewhere.example: wrong for every loopback name.
const Certificates& elsewhereCertificates();
/// Like the development set (the same names), signed by another CA: what a rotation brings.
const Certificates& rotatedCertificates();

/// Test settings (loopback, free ports) with a TLS listener on a free port.
ServerSettings tlsTestSettings(const Certificates& certificates = devCertificates());

/// A TLS connection to 127.0.0.1:port, handshake done, checking the
/// certificate against `ca` (empty: no check), offering `alpn` (empty: none),
/// presenting `identity` when asked (empty: none).
Poco::Net::StreamSocket tlsConnect(std::uint16_t port, const std::string& ca = devCertificates().ca(),
                                   const std::string& host = "127.0.0.1", const std::vector<std::string>& alpn = {},
                                   const tls::ClientIdentity& identity = {});

/// Path of a program on PATH, or empty.
std::string findProgram(const std::string& name);
/// openssl's path; a test failure (not a skip) when it is missing.
std::string requireOpenssl();

/// The TLS listener's port of an in-process server.
std::uint16_t tlsPort(InProcessServer& server);
/// Its handshakes that ended with `result` so far.
std::uint64_t handshakes(InProcessServer& server, ServerMetrics::Handshake result);

}  // namespace echod::test
