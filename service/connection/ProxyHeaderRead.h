#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/ProxyHeader.h"
#include "service/connection/ConnectionSlot.h"
#include "service/connection/ServerMetrics.h"

namespace echod {

/// How reading a connection's PROXY header ended.
struct ProxyHeaderRead {
  ServerMetrics::ProxyVersion version = ServerMetrics::ProxyVersion::None;
  ServerMetrics::ProxyResult result = ServerMetrics::ProxyResult::Closed;
  /// Bytes that came behind the header: the start of the echo stream. A view
  /// into the caller's buffer (fewer bytes than its last read returned, so
  /// they always fit), valid until the buffer's next read.
  std::string_view after;
  std::size_t bytesRead = 0;  ///< the header and `after`
  bool drained = false;       ///< the server began its drain while the header was incomplete
  std::string closeReason;    ///< for the connection's last log line, when it failed
  bool ok() const {
    return result == ServerMetrics::ProxyResult::Proxied || result == ServerMetrics::ProxyResult::Local;
  }
};

/// Reads the PROXY header (protocol/ProxyHeader.h) at the start of an
/// accepted socket, on its worker thread, within the deadline the caller
/// armed in the slot (ConnectionRegistry::armDeadline): the housekeeper wakes
/// a read that passes it (as it does a TLS handshake); this disarms it. `buffer` (`size` bytes, the connection's read
/// buffer) takes each read; a header split over reads is gathered, at most kProxyHeaderMax bytes. The header, when the
/// result is Proxied or Local, is moved into `header` (built once, where it is kept). Throws what the socket throws (a
/// reset).
ProxyHeaderRead readProxyHeader(Poco::Net::StreamSocket& socket, ConnectionSlot& slot, char* buffer, std::size_t size,
                                std::optional<ProxyHeader>& header);

}  // namespace echod
