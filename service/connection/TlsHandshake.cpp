#include "service/connection/TlsHandshake.h"

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>

#include "service/core/CoarseClock.h"
#include "tls/TlsContext.h"

namespace echod {
namespace {

using Handshake = TlsHandshakeCounters::Handshake;

Handshake refused(tls::ClientCertificateError error) {
  switch (error) {
    case tls::ClientCertificateError::UnknownCa:
      return Handshake::ClientCertificateUnknownCa;
    case tls::ClientCertificateError::Expired:
      return Handshake::ClientCertificateExpired;
    case tls::ClientCertificateError::NotYetValid:
      return Handshake::ClientCertificateNotYetValid;
    case tls::ClientCertificateError::BadSignature:
      return Handshake::ClientCertificateBadSignature;
    default:
      return Handshake::ClientCertificateInvalid;
  }
}

/// Which way a failed handshake went, from OpenSSL's reason.
TlsHandshakeCounters::Handshake classify(const Poco::Exception& e) {
  const std::string text = e.displayText();
  // Asked for and not given (echo.tlsClientAuth=require).
  if (text.find("peer did not return a certificate") != std::string::npos) return Handshake::NoClientCertificate;
  for (const char* notTls : {"wrong version number", "http request", "https proxy request", "packet length too long",
                             "unknown protocol", "record layer failure"}) {
    if (text.find(notTls) != std::string::npos) return TlsHandshakeCounters::Handshake::NotTls;
  }
  if (text.find("unexpected eof") != std::string::npos || text.find("nexpectedly closed") != std::string::npos ||
      dynamic_cast<const Poco::Net::ConnectionResetException*>(&e) != nullptr) {
    return TlsHandshakeCounters::Handshake::Closed;
  }
  if (dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr) return TlsHandshakeCounters::Handshake::Timeout;
  // The server's ALPN choice found nothing the client offered (RFC 7301's alert).
  if (text.find("no application protocol") != std::string::npos) {
    return TlsHandshakeCounters::Handshake::NoApplicationProtocol;
  }
  return TlsHandshakeCounters::Handshake::Failed;
}

}  // namespace

TlsHandshakeResult tlsHandshake(Poco::Net::StreamSocket& socket, ConnectionSlot& slot) {
  TlsHandshakeResult out;
  std::string detail;
  tls::clearThreadErrors();
  try {
    Poco::Net::SecureStreamSocket secure(socket);
    if (secure.completeHandshake() != 1) out.result = Handshake::Closed;
  } catch (const Poco::Exception& e) {
    out.result = classify(e);
    detail = e.displayText();
  }
  const tls::ClientRefusal refusal = tls::takeClientRefusal();
  if (out.result != Handshake::Ok && refusal.error != tls::ClientCertificateError::None) {
    out.result = refused(refusal.error);
    detail = refusal.why;
  }
  slot.openingDeadlineMs.store(0, std::memory_order_seq_cst);
  const auto wake = slot.wake.load(std::memory_order_acquire);
  if (out.result != Handshake::Ok && wake != ConnectionSlot::Wake::None) {
    // Woken by the housekeeper (the handshake deadline, or the idle timeout
    // when that is shorter), or by the drain.
    out.result = wake == ConnectionSlot::Wake::Drain ? Handshake::Closed : Handshake::Timeout;
  }
  switch (out.result) {
    case Handshake::Ok:
      out.ssl = tls::handleOf(socket);
      break;
    case Handshake::Timeout:
      out.closeReason = "closed: no TLS handshake in time";
      break;
    case Handshake::NotTls:
      out.closeReason = "closed: not TLS (" + detail + ")";
      break;
    case Handshake::Closed:
      out.closeReason = "closed by client during the TLS handshake";
      break;
    case Handshake::NoApplicationProtocol:
      out.closeReason = "closed: TLS handshake failed, no ALPN protocol in common (no_application_protocol)";
      break;
    case Handshake::NoClientCertificate:
      out.closeReason = "closed: TLS client certificate required, none given (no_client_certificate)";
      break;
    case Handshake::ClientCertificateUnknownCa:
    case Handshake::ClientCertificateExpired:
    case Handshake::ClientCertificateNotYetValid:
    case Handshake::ClientCertificateBadSignature:
    case Handshake::ClientCertificateInvalid:
      out.closeReason = "closed: TLS client certificate refused, " + detail + " (" +
                        TlsHandshakeCounters::kHandshakeNames[static_cast<std::size_t>(out.result)] + ")";
      break;
    case Handshake::Failed:
      out.closeReason = "closed: TLS handshake failed (" + detail + ")";
      break;
  }
  return out;
}

}  // namespace echod
