#include "service/server/TlsSettings.h"

#include "protocol/Alpn.h"

namespace echod {

std::vector<SettingSpec> TlsSettings::specs() {
  const TlsSettings d;
  return {
      {"echo.tlsPort", "tls-port", "ECHO_TLS_PORT", "N|off",
       "TLS port beside the plain one (4568 is usual); 0 picks a free one", "off"},
      {"echo.tlsCertificate", "tls-certificate", "ECHO_TLS_CERTIFICATE", "FILE",
       "PEM certificate chain of the TLS listener, leaf first", "none"},
      {"echo.tlsPrivateKey", "tls-private-key", "ECHO_TLS_PRIVATE_KEY", "FILE",
       "PEM private key of that certificate, unencrypted", "none"},
      {"echo.tlsMinVersion", "tls-min-version", "ECHO_TLS_MIN_VERSION", "1.2|1.3", "oldest TLS version accepted",
       d.tlsMinVersion == tls::MinVersion::Tls13 ? "1.3" : "1.2"},
      {"echo.tlsHandshakeTimeout", "tls-handshake-timeout", "ECHO_TLS_HANDSHAKE_TIMEOUT", "SECONDS",
       "close a TLS client that has not finished its handshake this long after a worker took it",
       defaultSeconds(d.tlsHandshakeTimeout)},
      {"echo.proxyTlsPort", "proxy-tls-port", "ECHO_PROXY_TLS_PORT", "N|off",
       "PROXY header, then TLS, then echo (TLS passthrough behind send-proxy-v2); the PROXY listener's rules, "
       "then the TLS listener's; 0 picks a free one",
       "off"},
      {"echo.tlsReloadSeconds", "tls-reload-seconds", "ECHO_TLS_RELOAD_SECONDS", "SECONDS",
       "look at the certificate and key files this often; changed, they are read again for new handshakes",
       defaultSeconds(d.tlsReloadInterval)},
      {"echo.tlsAlpn", "tls-alpn", "ECHO_TLS_ALPN", "LIST|off",
       "ALPN protocols, the server's preference first (h2,http/1.1): a client offering none of them fails "
       "the handshake (no_application_protocol)",
       "off"},
      {"echo.tlsClientAuth", "tls-client-auth", "ECHO_TLS_CLIENT_AUTH", "none|request|require",
       "client certificates: request verifies one if given; require refuses a client without one that verifies",
       "none"},
      {"echo.tlsClientCa", "tls-client-ca", "ECHO_TLS_CLIENT_CA", "FILE",
       "PEM bundle of the CAs client certificates must chain to (required with echo.tlsClientAuth); read again "
       "when it changes",
       "none"},
  };
}

void TlsSettings::read(const SettingReader& read) {
  if (read.text("echo.tlsPort", "off", 16) != "off")
    tlsPort = static_cast<int>(read.integer("echo.tlsPort", 0, 0, 65535));
  if (read.text("echo.proxyTlsPort", "off", 16) != "off")
    proxyTlsPort = static_cast<int>(read.integer("echo.proxyTlsPort", 0, 0, 65535));
  // "none" (the default) names no file.
  tlsCertificate = read.text("echo.tlsCertificate", "none", 4096);
  tlsPrivateKey = read.text("echo.tlsPrivateKey", "none", 4096);
  if (tlsCertificate == "none") tlsCertificate.clear();
  if (tlsPrivateKey == "none") tlsPrivateKey.clear();
  tlsMinVersion = read.choice("echo.tlsMinVersion", tlsMinVersion,
                              {{"1.2", tls::MinVersion::Tls12}, {"1.3", tls::MinVersion::Tls13}});
  tlsHandshakeTimeout = read.seconds("echo.tlsHandshakeTimeout", tlsHandshakeTimeout, 0.1, 3600);
  tlsReloadInterval = read.seconds("echo.tlsReloadSeconds", tlsReloadInterval, 0.1, 86400);
  tlsClientAuth = read.choice(
      "echo.tlsClientAuth", tlsClientAuth,
      {{"none", tls::ClientAuth::None}, {"request", tls::ClientAuth::Request}, {"require", tls::ClientAuth::Require}});
  tlsClientCa = read.text("echo.tlsClientCa", "none", 4096);
  if (tlsClientCa == "none") tlsClientCa.clear();
  const std::string alpn = read.text("echo.tlsAlpn", "off", 4096);
  std::string error;
  if (alpn == "off") {
    tlsAlpn.clear();
  } else if (auto names = parseAlpnList(alpn, error)) {
    tlsAlpn = std::move(*names);
  } else {
    read.reject("echo.tlsAlpn", alpn, "protocol names separated by commas, or off (" + error + ")");
  }
}

void TlsSettings::check(const SettingReader& read) const {
  if (!tlsEnabled() && !proxyTlsEnabled()) return;
  const std::string with = tlsEnabled() ? "echo.tlsPort" : "echo.proxyTlsPort";
  if (tlsCertificate.empty()) read.reject("echo.tlsCertificate", "", "a PEM file, required with " + with);
  if (tlsPrivateKey.empty()) read.reject("echo.tlsPrivateKey", "", "a PEM file, required with " + with);
  if (tlsClientAuth != tls::ClientAuth::None && tlsClientCa.empty()) {
    read.reject("echo.tlsClientCa", "", "a PEM file of CA certificates, required with echo.tlsClientAuth");
  }
}

}  // namespace echod
