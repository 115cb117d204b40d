#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "service/connection/ConnectionSlot.h"
#include "service/core/Counter.h"

struct ssl_st;

namespace echod {

/// How TLS handshakes ended, for /metrics (echod_tls_handshakes_total).
struct TlsHandshakeCounters {
  enum class Handshake : std::uint8_t {
    Ok,
    Timeout,
    NotTls,
    Closed,
    NoApplicationProtocol,
    // Client certificates refused (echo.tlsClientAuth), by reason.
    NoClientCertificate,
    ClientCertificateUnknownCa,
    ClientCertificateExpired,
    ClientCertificateNotYetValid,
    ClientCertificateBadSignature,
    ClientCertificateInvalid,
    Failed
  };
  static constexpr std::size_t kHandshakeResults = static_cast<std::size_t>(Handshake::Failed) + 1;
  static constexpr std::array<const char*, kHandshakeResults> kHandshakeNames{"ok",
                                                                              "timeout",
                                                                              "not_tls",
                                                                              "closed",
                                                                              "no_application_protocol",
                                                                              "no_client_certificate",
                                                                              "client_certificate_unknown_ca",
                                                                              "client_certificate_expired",
                                                                              "client_certificate_not_yet_valid",
                                                                              "client_certificate_bad_signature",
                                                                              "client_certificate_invalid",
                                                                              "failed"};
  std::array<Counter, kHandshakeResults> tlsHandshakes{};
  /// A client certificate refused (or none given when required).
  static constexpr bool refusedClientCertificate(Handshake r) {
    return r >= Handshake::NoClientCertificate && r <= Handshake::ClientCertificateInvalid;
  }
  void countHandshake(Handshake result) { count(tlsHandshakes[static_cast<std::size_t>(result)]); }
};

/// How a TLS handshake ended.
struct TlsHandshakeResult {
  TlsHandshakeCounters::Handshake result = TlsHandshakeCounters::Handshake::Ok;
  std::string closeReason;  ///< for the connection's last log line, when it failed
  ssl_st* ssl = nullptr;    ///< the connection's OpenSSL handle, for close_notify, when it succeeded
};

/// The TLS handshake of an accepted socket, on its worker thread, within the
/// deadline the caller armed in the slot (ConnectionRegistry::armOpeningDeadline):
/// the housekeeper wakes a handshake that passes it (as it does an idle
/// read); this disarms it. A failure is classified from OpenSSL's reason:
/// not TLS, closed, timed out, no common ALPN protocol, a client certificate
/// refused (none, or why it did not verify), failed.
TlsHandshakeResult tlsHandshake(Poco::Net::StreamSocket& socket, ConnectionSlot& slot);

}  // namespace echod
