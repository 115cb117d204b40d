#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <string>

#include "service/connection/ConnectionSlot.h"
#include "service/connection/ServerMetrics.h"

struct ssl_st;

namespace echod {

/// How a TLS handshake ended.
struct TlsHandshakeResult {
  ServerMetrics::Handshake result = ServerMetrics::Handshake::Ok;
  std::string closeReason;  ///< for the connection's last log line, when it failed
  ssl_st* ssl = nullptr;    ///< the connection's OpenSSL handle, for close_notify, when it succeeded
};

/// The TLS handshake of an accepted socket, on its worker thread, within the
/// deadline the caller armed in the slot (ConnectionRegistry::armDeadline):
/// the housekeeper wakes a handshake that passes it (as it does an idle
/// read); this disarms it. A failure is classified from OpenSSL's reason:
/// not TLS, closed, timed out, failed.
TlsHandshakeResult tlsHandshake(Poco::Net::StreamSocket& socket, ConnectionSlot& slot);

}  // namespace echod
