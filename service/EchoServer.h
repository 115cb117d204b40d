#pragma once

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include <memory>

#include "service/ConnectionRegistry.h"
#include "service/Housekeeper.h"
#include "service/PoolSizing.h"
#include "service/ServerMetrics.h"
#include "service/ServerSettings.h"

namespace echod {

/// The echo service as one object: listening socket, its own worker pool
/// (sized from the machine's limits unless maxThreads is given), admission,
/// the registry of open connections and the housekeeper that keeps their
/// time. EchoServerApp runs one; integration tests run one in-process on port 0.
class EchoServer {
 public:
  /// Binds and listens; throws Poco::Exception when the address is unusable,
  /// SettingsError when minThreads exceeds the pool sized from the machine or
  /// a TLS certificate or key file cannot be used.
  explicit EchoServer(const ServerSettings& settings);
  ~EchoServer();

  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  void start();

  /// The address actually bound (the real port when the settings said 0).
  Poco::Net::SocketAddress address() const;
  /// The TLS listener's address; throws Poco::IllegalStateException when TLS is off.
  Poco::Net::SocketAddress tlsAddress() const;

  /// Stops as docs/protocol.md "Shutdown" says: refuse new connections, let
  /// open ones finish and get FIN, `ERR shutting down` to the rest after
  /// drainTimeout, then join every thread. True when all finished in time.
  bool shutdown();

  /// What /metrics and /healthz show besides the counters.
  struct Gauges {
    std::size_t openConnections;  ///< admitted: running plus queued
    std::size_t busyThreads;      ///< connections being served by a worker now
    std::size_t queued;           ///< waiting for a worker
    int maxThreads;
    int poolThreads;  ///< threads the pool has started
    bool draining;
    std::array<std::size_t, ConnectionRegistry::kListeners> openByListener;
  };
  Gauges gauges() const;
  const ServerMetrics& metrics() const { return _metrics; }
  /// Open connections and recent events, for the console.
  const ConnectionRegistry& registry() const { return _registry; }
  /// The settings in force: maxThreads and minThreads resolved.
  const ServerSettings& settings() const { return _settings; }
  /// How the pool was sized; decidedBy is "echo.maxThreads" when it was given.
  const PoolSize& poolSize() const { return _poolSize; }

 private:
  const PoolSize _poolSize;
  const ServerSettings _settings;
  ServerMetrics _metrics;
  ConnectionRegistry _registry;
  Housekeeper _housekeeper;
  Poco::ThreadPool _pool;
  Poco::Net::ServerSocket _socket;
  std::unique_ptr<Poco::Net::TCPServer> _server;
  // The TLS listener, when echo.tlsPort is set: its own acceptor, the same pool and registry.
  std::unique_ptr<Poco::Net::ServerSocket> _tlsSocket;
  std::unique_ptr<Poco::Net::TCPServer> _tlsServer;
  bool _stopped = false;
};

}  // namespace echod
