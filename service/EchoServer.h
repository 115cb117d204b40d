#pragma once

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include <memory>

#include "service/ConnectionRegistry.h"
#include "service/ServerMetrics.h"
#include "service/ServerSettings.h"

namespace echod {

/// The echo service as one object: listening socket, its own worker pool,
/// admission and the registry of open connections. EchoServerApp runs one;
/// integration tests run one in-process on port 0.
class EchoServer {
 public:
  /// Binds and listens; throws Poco::Exception when the address is unusable.
  explicit EchoServer(const ServerSettings& settings);
  ~EchoServer();

  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  void start();

  /// The address actually bound (the real port when the settings said 0).
  Poco::Net::SocketAddress address() const;

  /// Stops as docs/protocol.md "Shutdown" says: refuse new connections, let
  /// open ones finish and get FIN, `ERR shutting down` to the rest after
  /// drainTimeout, then join every thread. True when all finished in time.
  bool shutdown();

  /// Connections admitted and not yet ended.
  std::size_t openConnections() const { return _registry.size(); }

  /// What /metrics and /healthz show besides the counters.
  struct Gauges {
    std::size_t openConnections;
    int busyThreads;  ///< connections being served by a worker now
    int queued;       ///< waiting for a worker
    int maxThreads;
    int poolThreads;  ///< threads the pool has started
    bool draining;
  };
  Gauges gauges() const;
  const ServerMetrics& metrics() const { return _metrics; }

 private:
  const ServerSettings _settings;
  ServerMetrics _metrics;
  ConnectionRegistry _registry;
  Poco::ThreadPool _pool;
  Poco::Net::ServerSocket _socket;
  std::unique_ptr<Poco::Net::TCPServer> _server;
  bool _stopped = false;
};

}  // namespace echod
