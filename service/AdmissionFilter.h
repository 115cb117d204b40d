#pragma once

#include <Poco/Net/TCPServer.h>
#include <Poco/Timestamp.h>

#include <cstddef>

#include "service/ConnectionRegistry.h"
#include "service/ServerMetrics.h"

namespace echod {

/// Decides, on the acceptor thread, whether a new connection gets a worker.
/// POCO's own queue closes surplus sockets without a word; this refuses them
/// first, with `ERR server busy`, `ERR too many connections` or
/// `ERR shutting down`, so the client knows at once why.
class AdmissionFilter : public Poco::Net::TCPServerConnectionFilter {
 public:
  AdmissionFilter(ConnectionRegistry& registry, ServerMetrics& metrics) : _registry(registry), _metrics(metrics) {}

  bool accept(const Poco::Net::StreamSocket& socket) override;

 private:
  ConnectionRegistry& _registry;
  ServerMetrics& _metrics;
  // Only the acceptor thread calls accept(): no lock needed for these.
  std::size_t _refusedSinceLog = 0;
  Poco::Timestamp _lastLog{0};
};

}  // namespace echod
