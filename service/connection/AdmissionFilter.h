#pragma once

#include <Poco/Net/TCPServer.h>

#include <optional>

#include "service/connection/ConnectionRegistry.h"
#include "service/connection/ProxySources.h"
#include "service/connection/ServerMetrics.h"
#include "service/logging/LogThrottle.h"

namespace echod {

/// Admission, on the acceptor thread, hooked in as POCO's connection filter:
/// every accepted socket passes here first (ConnectionRegistry::admit()).
/// It is also the fast path: when a worker is parked, the socket is handed
/// straight to it and the filter tells POCO to drop its own reference, so
/// most connections never reach POCO's dispatcher queue. Only when no worker
/// is parked does it return true, and POCO queues the socket for a pooled
/// thread. POCO's own queue closes surplus sockets without a word; this
/// refuses them first, with `ERR server busy`, `ERR too many connections` or
/// `ERR shutting down`, so the client knows at once why. One filter per
/// listening socket: it tells the registry which listener a socket came
/// through, and on the PROXY listener refuses a peer outside echo.proxyFrom
/// with `ERR proxy not allowed`.
class AdmissionFilter : public Poco::Net::TCPServerConnectionFilter {
 public:
  AdmissionFilter(ConnectionRegistry& registry, ServerMetrics& metrics, ConnectionSlot::Listener listener,
                  std::optional<ProxySources> proxySources = std::nullopt)
      : _registry(registry), _metrics(metrics), _listener(listener), _proxySources(std::move(proxySources)) {}

  bool accept(const Poco::Net::StreamSocket& socket) override;

 private:
  ConnectionRegistry& _registry;
  ServerMetrics& _metrics;
  const ConnectionSlot::Listener _listener;
  const std::optional<ProxySources> _proxySources;  ///< PROXY listener with echo.proxyFrom set
  LogThrottle _refusals;                            ///< only the acceptor thread calls accept(): no lock
};

}  // namespace echod
