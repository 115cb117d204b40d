#pragma once

#include <atomic>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "service/connection/ConnectionContext.h"
#include "service/connection/ConnectionEvents.h"
#include "service/connection/ConnectionRegistry.h"
#include "service/connection/LingeringCloses.h"
#include "service/connection/WorkerThreads.h"
#include "service/server/Housekeeper.h"
#include "service/server/Listeners.h"
#include "service/server/PoolSizing.h"
#include "service/server/ServerMetrics.h"
#include "service/server/ServerSettings.h"
#include "service/udp/UdpEchoServer.h"
#include "tls/ServerCertificates.h"

namespace echod {

/// The echo service as one object, and the composition root of the
/// connection path: the listeners (Listeners.h: plain, and TLS, PROXY and
/// PROXY-then-TLS when configured), each a listening socket with a POCO TCPServer acceptor; one set of worker
/// threads (at most maxThreads, sized from the machine's limits unless
/// given) shared by all of them (WorkerThreads); admission;
/// the registry of open connections; the housekeeper that keeps their time;
/// the lingering closes; the events and metrics. It owns every one of them
/// and hands the connection path a ConnectionContext, so nothing below reads
/// ServerSettings. EchoServerApp runs one; integration tests run one
/// in-process on port 0.
///
/// Shutdown, in this order (shutdown(); docs/architecture.md, "Shutdown"):
///  0. UDP stops (its threads joined);
///  1. the registry drains: admission answers `ERR shutting down`, queued
///     connections get it at once, parked workers leave, running ones are
///     woken (shutdown of their receive side) to finish and send FIN;
///  2. wait up to drainTimeout for the registry to empty; if not, abortAll()
///     and wait kAbortGrace for the `ERR shutting down` lines to go out;
///  3. stop the acceptors (plain, TLS, PROXY, PROXY-then-TLS) and close the listening sockets
///     (a connect is now refused);
///  4. join the worker starter and every worker (WorkerThreads::stop());
///  5. wait for lingering closes within what is left of the promised bound;
///  6. stop the housekeeper (joined), then close the sockets still lingering.
class EchoServer {
 public:
  /// Binds and listens; throws ListenError (naming the setting) when a port
  /// is unusable, SettingsError when minThreads exceeds the pool sized from
  /// the machine or a TLS certificate or key file cannot be used.
  explicit EchoServer(const ServerSettings& settings);
  ~EchoServer();

  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  void start();

  /// The address a listener actually bound (the real port when its setting
  /// said 0); throws Poco::IllegalStateException when that listener is off.
  Poco::Net::SocketAddress addressOf(Listener id) const;
  Poco::Net::SocketAddress address() const { return addressOf(Listener::Plain); }
  Poco::Net::SocketAddress tlsAddress() const { return addressOf(Listener::Tls); }
  Poco::Net::SocketAddress proxyAddress() const { return addressOf(Listener::Proxy); }
  Poco::Net::SocketAddress proxyTlsAddress() const { return addressOf(Listener::ProxyTls); }
  /// The UDP echo's address; throws Poco::IllegalStateException when it is off.
  Poco::Net::SocketAddress udpAddress() const;
  /// Each listener's start-up log line, in order.
  std::vector<std::string> describeListeners() const;

  /// Stops as docs/protocol.md "Shutdown" says: refuse new connections, let
  /// open ones finish and get FIN, `ERR shutting down` to the rest after
  /// drainTimeout, then join every thread. True when all finished in time.
  bool shutdown();

  /// Leaving the rotation: /readyz says 503 from now on, while connections
  /// are still accepted and served (the shutdown delay, then shutdown()).
  void leaveRotation() { _ready.store(false, std::memory_order_release); }
  /// The readiness switch (echo.adminControl: POST /readyz/disable and
  /// /readyz/enable): only what /readyz says changes, never the echo service;
  /// enabling cannot undo leaving the rotation.
  void switchReadiness(bool on) { _switchedOn.store(on, std::memory_order_release); }
  bool readinessSwitchedOn() const { return _switchedOn.load(std::memory_order_acquire); }
  /// Whether the server takes new connections and stays (/readyz).
  bool ready() const {
    return _ready.load(std::memory_order_acquire) && readinessSwitchedOn() && !_registry.draining();
  }

  /// What /metrics and /healthz show besides the counters.
  struct Gauges {
    std::size_t openConnections;  ///< admitted: running plus queued
    std::size_t busyThreads;      ///< connections being served by a worker now
    std::size_t queued;           ///< waiting for a worker
    int maxThreads;
    int poolThreads;  ///< worker threads started and not yet joined
    bool draining;
    std::array<std::size_t, kListeners> openByListener;
  };
  Gauges gauges() const;
  const ServerMetrics& metrics() const { return _metrics; }
  /// Open connections, for the console and tests.
  const ConnectionRegistry& registry() const { return _registry; }
  /// Connections opened and closed lately, for the console.
  const ConnectionEvents& events() const { return _events; }
  /// Finished connections waiting for their client's close.
  const LingeringCloses& lingering() const { return _lingering; }
  /// The settings in force: maxThreads and minThreads resolved.
  const ServerSettings& settings() const { return _settings; }
  /// How the pool was sized; decidedBy is "echo.maxThreads" when it was given.
  const PoolSize& poolSize() const { return _poolSize; }
  /// The TLS listeners' certificate, read again when its files change; null without a TLS listener.
  const tls::ServerCertificates* certificates() const { return _certificates.get(); }

 private:
  const PoolSize _poolSize;
  const ServerSettings _settings;
  ServerMetrics _metrics;
  ConnectionEvents _events;
  ConnectionRegistry _registry;
  LingeringCloses _lingering;
  const ConnectionContext _context;
  // Before the housekeeper, which checks its files, and the listeners, whose handshakes take from it.
  std::unique_ptr<tls::ServerCertificates> _certificates;
  Housekeeper _housekeeper;
  WorkerThreads _workers;
  Poco::ThreadPool _dispatcherPool;
  /// One TCP listener running: its setup (Listeners.h), socket and POCO acceptor.
  struct RunningListener {
    const ListenerSetup* setup;
    std::unique_ptr<Poco::Net::ServerSocket> socket;
    std::unique_ptr<Poco::Net::TCPServer> server;
  };
  std::optional<Poco::Net::SocketAddress> listenerAddress(Listener id) const;
  /// The housekeeper's look at the certificate files, logged when they changed.
  void checkCertificates();
  std::vector<RunningListener> _listeners;  ///< those on, in listenerSetups() order
  // UDP echo, when echo.udpPort is set: its own threads, joined when the drain begins.
  std::unique_ptr<UdpEchoServer> _udp;
  bool _stopped = false;
  std::atomic<bool> _ready{true};       ///< false once asked to stop (main), read by the admin threads
  std::atomic<bool> _switchedOn{true};  ///< the readiness switch, flipped by the admin threads
};

}  // namespace echod
