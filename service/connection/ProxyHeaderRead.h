#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/ProxyHeader.h"
#include "protocol/Replies.h"
#include "service/connection/ConnectionRegistry.h"
#include "service/connection/ConnectionSlot.h"
#include "service/core/Counter.h"

namespace echod {

/// PROXY headers (the listeners that read one), by version and result, for
/// /metrics (echod_proxy_headers_total).
struct ProxyHeaderCounters {
  enum class ProxyVersion : std::uint8_t { V1, V2, None };  ///< None: not a header of either version
  static constexpr std::size_t kProxyVersions = static_cast<std::size_t>(ProxyVersion::None) + 1;
  static constexpr std::array<const char*, kProxyVersions> kProxyVersionNames{"1", "2", "none"};
  enum class ProxyResult : std::uint8_t {
    Proxied,     ///< a client's addresses: PROXY (v2), TCP4 or TCP6 (v1)
    Local,       ///< LOCAL (v2) or UNKNOWN (v1): the proxy's own connection, a health check
    Bad,         ///< malformed, a wrong CRC, or not a header
    Timeout,     ///< incomplete at echo.proxyHeaderTimeout
    Closed,      ///< the peer closed before a complete header
    NotAllowed,  ///< a peer outside echo.proxyFrom, refused at admission
  };
  static constexpr std::size_t kProxyResults = static_cast<std::size_t>(ProxyResult::NotAllowed) + 1;
  static constexpr std::array<const char*, kProxyResults> kProxyResultNames{"proxied", "local",  "bad",
                                                                            "timeout", "closed", "not_allowed"};
  std::array<std::array<Counter, kProxyResults>, kProxyVersions> proxyHeaders{};
  void countProxyHeader(ProxyVersion version, ProxyResult result) {
    count(proxyHeaders[static_cast<std::size_t>(version)][static_cast<std::size_t>(result)]);
  }
};

/// How reading a connection's PROXY header ended.
struct ProxyHeaderRead {
  ProxyHeaderCounters::ProxyVersion version = ProxyHeaderCounters::ProxyVersion::None;
  ProxyHeaderCounters::ProxyResult result = ProxyHeaderCounters::ProxyResult::Closed;
  /// Bytes that came behind the header: the start of the echo stream. A view
  /// into the caller's buffer (fewer bytes than its last read returned, so
  /// they always fit), valid until the buffer's next read.
  std::string_view after;
  std::size_t bytesRead = 0;  ///< the header and `after`
  bool drained = false;       ///< the server began its drain while the header was incomplete
  std::string closeReason;    ///< for the connection's last log line, when it failed
  bool ok() const {
    return result == ProxyHeaderCounters::ProxyResult::Proxied || result == ProxyHeaderCounters::ProxyResult::Local;
  }
};

/// Reads the PROXY header (protocol/ProxyHeader.h) at the start of an
/// accepted socket, on its worker thread, within the deadline the caller
/// armed in the slot (ConnectionRegistry::armOpeningDeadline): the housekeeper wakes
/// a read that passes it (as it does a TLS handshake); this disarms it. `buffer` (`size` bytes, the connection's read
/// buffer) takes each read; a header split over reads is gathered, at most kProxyHeaderMax bytes. The header, when the
/// result is Proxied or Local, is moved into `header` (built once, where it is kept). `exact`: nothing behind the
/// header is taken from the socket (`after` stays empty), for a TLS handshake that follows it: each read peeks
/// (MSG_PEEK), and takes only what the parser says is header. Throws what the socket throws (a reset).
ProxyHeaderRead readProxyHeader(Poco::Net::StreamSocket& socket, ConnectionSlot& slot, char* buffer, std::size_t size,
                                bool exact, std::optional<ProxyHeader>& header);

/// A PROXY listener's connection opened: the header read within `timeout`
/// (its deadline armed in the registry, kept by the housekeeper) and
/// counted; the header's client made the connection's (its per-address
/// place claimed; `peer`, when logged or shown, becomes "client via proxy").
struct ProxyOpening {
  bool ok = false;                     ///< the echo goes on, `first` its first bytes
  std::optional<ErrorReason> refusal;  ///< not ok: answer this and end; none: end quietly
  std::string closeReason;             ///< not ok: for the connection's last log line
  std::string_view first;              ///< bytes behind the header, in the caller's buffer
  std::size_t bytesRead = 0;           ///< the header and `first`
};
ProxyOpening openProxied(Poco::Net::StreamSocket& socket, ConnectionSlot& slot, ConnectionRegistry& registry,
                         ProxyHeaderCounters& counters, const Poco::Timespan& timeout, char* buffer, std::size_t size,
                         bool exact, std::optional<ProxyHeader>& header, std::string& peer);

}  // namespace echod
