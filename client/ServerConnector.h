#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "client/ClientSettings.h"

namespace echod {

/// Opens connections to the echo server as the settings say: plain TCP, or
/// TLS (--tls) with the server's certificate checked against --tls-ca (or the
/// system's CAs) and the host name, unless --tls-insecure. One per run; its
/// TLS context is shared by every connection, from any thread.
class ServerConnector {
 public:
  /// Throws SettingsError when the --tls-ca file cannot be used.
  explicit ServerConnector(const ClientSettings& settings);

  /// Connects (sends the PROXY header with --proxy-protocol, then completes
  /// the TLS handshake with --tls) within the timeout; throws
  /// Poco::Exception with the reason: refused, timed out, unknown host, or a
  /// refused certificate with OpenSSL's word for why ("certificate has
  /// expired", "hostname mismatch").
  Poco::Net::StreamSocket connect() const;

  bool tls() const { return !_context.isNull(); }
  /// host:port, as messages name it.
  std::string target() const;

 private:
  void sendProxyHeader(Poco::Net::StreamSocket& socket) const;

  const ClientSettings& _settings;
  Poco::Net::Context::Ptr _context;  ///< null: plain TCP
};

/// Writes all of `bytes`; no SIGPIPE. Throws Poco::Exception when the peer is gone.
void sendAll(Poco::Net::StreamSocket& socket, std::string_view bytes);

}  // namespace echod
