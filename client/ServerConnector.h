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
  /// expired", "hostname mismatch"). `first`, when given, is sent at once:
  /// behind the PROXY header in the same write (one segment, as a proxy that
  /// already holds the client's first bytes sends them), else after the
  /// handshake.
  Poco::Net::StreamSocket connect(std::string_view first = {}) const;

  bool tls() const { return !_context.isNull(); }
  /// host:port, as messages name it.
  std::string target() const;

 private:
  /// The header, naming --proxy-source (else this socket) and `server`.
  std::string proxyHeader(Poco::Net::StreamSocket& socket, const Poco::Net::SocketAddress& server) const;

  const ClientSettings& _settings;
  Poco::Net::Context::Ptr _context;  ///< null: plain TCP
};

/// Writes all of `bytes`; no SIGPIPE. `flags` adds send(2) flags (MSG_MORE).
/// Throws Poco::Exception when the peer is gone.
void sendAll(Poco::Net::StreamSocket& socket, std::string_view bytes, int flags = 0);

}  // namespace echod
