#pragma once

#include <Poco/Timespan.h>

#include <string>
#include <vector>

#include "settings/SettingReader.h"
#include "tls/TlsContext.h"

namespace echod {

/// The TLS listener's settings (docs/configuration.md "TLS"): same pool,
/// registry and protocol as the plain one. One group of ServerSettings.
struct TlsSettings {
  static constexpr int kTlsOff = -1;
  int tlsPort = kTlsOff;       ///< kTlsOff: no TLS listener; 0 picks a free port
  int proxyTlsPort = kTlsOff;  ///< kTlsOff: no PROXY-then-TLS listener; 0 picks a free port
  std::string tlsCertificate;  ///< PEM certificate chain, leaf first
  std::string tlsPrivateKey;   ///< PEM private key, unencrypted
  tls::MinVersion tlsMinVersion = tls::MinVersion::Tls12;
  Poco::Timespan tlsHandshakeTimeout{10, 0};  ///< from a worker taking the connection to a finished handshake
  std::vector<std::string> tlsAlpn;           ///< ALPN names in the server's order of preference; empty: off
  Poco::Timespan tlsReloadInterval{5, 0};     ///< how often the certificate files are looked at
  tls::ClientAuth tlsClientAuth = tls::ClientAuth::None;
  std::string tlsClientCa;  ///< PEM bundle of the CAs client certificates chain to; required unless None
  bool tlsEnabled() const { return tlsPort != kTlsOff; }
  /// The client CA bundle in use: empty unless client certificates are asked for.
  std::string clientCaFile() const { return tlsClientAuth == tls::ClientAuth::None ? std::string() : tlsClientCa; }
  bool proxyTlsEnabled() const { return proxyTlsPort != kTlsOff; }

  static std::vector<SettingSpec> specs();
  void read(const SettingReader& read);
  /// With either TLS listener on, a certificate and a key are required, and
  /// a client CA bundle when client certificates are asked for.
  void check(const SettingReader& read) const;
};

}  // namespace echod
