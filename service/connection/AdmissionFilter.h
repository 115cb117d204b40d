#pragma once

#include <Poco/Net/TCPServer.h>

#include <optional>

#include "service/connection/ConnectionMetrics.h"
#include "service/connection/ConnectionRegistry.h"
#include "service/connection/ProxySources.h"
#include "service/connection/WorkerThreads.h"
#include "service/logging/LogThrottle.h"

namespace echod {

/// Admission, on the acceptor thread, hooked in as POCO's connection filter:
/// every accepted socket passes here (ConnectionRegistry::admit()) and none
/// goes on to POCO's dispatcher. Admitted, it is handed straight to a parked
/// worker, or queued in the registry with one more worker asked of
/// WorkerThreads when the pool has room. Refused, it is answered `ERR server
/// busy`, `ERR too many connections` or `ERR shutting down` at once (POCO's
/// own queue would close surplus sockets without a word). One filter per
/// listening socket: it tells the registry which listener a socket came
/// through, and on the PROXY listener refuses a peer outside echo.proxyFrom
/// with `ERR proxy not allowed`.
class AdmissionFilter : public Poco::Net::TCPServerConnectionFilter {
 public:
  AdmissionFilter(ConnectionRegistry& registry, WorkerThreads& workers, ConnectionMetrics& metrics,
                  ConnectionSlot::Listener listener, std::optional<ProxySources> proxySources = std::nullopt)
      : _registry(registry),
        _workers(workers),
        _metrics(metrics),
        _listener(listener),
        _proxySources(std::move(proxySources)) {}

  /// Always false: POCO's dispatcher never takes a socket (the registry's
  /// entry, or the refusal, holds it; POCO only drops its own reference).
  bool accept(const Poco::Net::StreamSocket& socket) override;

 private:
  ConnectionRegistry& _registry;
  WorkerThreads& _workers;
  ConnectionMetrics& _metrics;
  const ConnectionSlot::Listener _listener;
  const std::optional<ProxySources> _proxySources;  ///< PROXY listener with echo.proxyFrom set
  LogThrottle _refusals;                            ///< only the acceptor thread calls accept(): no lock
};

}  // namespace echod
