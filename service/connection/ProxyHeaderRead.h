#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <cstddef>
#include <string>

#include "protocol/ProxyHeader.h"
#include "service/connection/ConnectionSlot.h"
#include "service/connection/ServerMetrics.h"

namespace echod {

/// How reading a connection's PROXY header ended.
struct ProxyHeaderRead {
  ServerMetrics::ProxyVersion version = ServerMetrics::ProxyVersion::None;
  ServerMetrics::ProxyResult result = ServerMetrics::ProxyResult::Closed;
  ProxyHeader header;         ///< when the result is Proxied or Local
  std::string after;          ///< bytes that came behind the header: the start of the echo stream
  std::size_t bytesRead = 0;  ///< the header and `after`
  bool drained = false;       ///< the server began its drain while the header was incomplete
  std::string closeReason;    ///< for the connection's last log line, when it failed
  bool ok() const {
    return result == ServerMetrics::ProxyResult::Proxied || result == ServerMetrics::ProxyResult::Local;
  }
};

/// Reads the PROXY header (protocol/ProxyHeader.h) at the start of an
/// accepted socket, on its worker thread, within `timeout`: the slot carries
/// the deadline, and the housekeeper wakes a read that passes it (as it does
/// a TLS handshake). `buffer` (`size` bytes, the connection's read buffer)
/// takes each read; a header split over reads is gathered, at most
/// kProxyHeaderMax bytes. Throws what the socket throws (a reset).
ProxyHeaderRead readProxyHeader(Poco::Net::StreamSocket& socket, ConnectionSlot& slot, const Poco::Timespan& timeout,
                                char* buffer, std::size_t size);

}  // namespace echod
