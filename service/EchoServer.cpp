#include "service/EchoServer.h"

#include <Poco/Logger.h>
#include <Poco/Net/TCPServerParams.h>

#include "service/AdmissionFilter.h"
#include "service/EchoConnection.h"
#include "service/EchoConnectionFactory.h"
#include "service/ListeningSocket.h"

#include <algorithm>

namespace echod {
namespace {

constexpr int kListenBacklog = 4096;     ///< the kernel caps it at net.core.somaxconn
constexpr int kPoolSpareThreads = 4;     ///< slack for a dispatcher thread that is still returning to the pool
const Poco::Timespan kAbortGrace(1, 0);  ///< after the drain time, for the ERR lines to go out
constexpr int kPoolIdleSeconds = 60;

}  // namespace

EchoServer::EchoServer(const ServerSettings& settings)
    : _settings(settings),
      _registry(static_cast<std::size_t>(settings.maxThreads) + static_cast<std::size_t>(settings.maxQueued),
                static_cast<std::size_t>(settings.maxConnectionsPerAddress)),
      // Our own pool: the default one has 16 threads, whatever maxThreads says.
      // minThreads are created now: POCO's acceptor starts a worker per new
      // connection and, when it must create the thread, waits until the new
      // thread runs, which under a saturated CPU delays every accept behind it.
      _pool("echo", std::max(1, std::min(settings.minThreads, settings.maxThreads)),
            settings.maxThreads + kPoolSpareThreads, kPoolIdleSeconds, settings.threadStackSize),
      // Accepted sockets inherit the timeouts: no set-up call per connection.
      _socket(listeningSocket(settings.host, settings.port, kListenBacklog,
                              InheritedOptions{settings.idleTimeout, EchoConnection::kSendSlice})) {
  Poco::Net::TCPServerParams::Ptr params(new Poco::Net::TCPServerParams);
  params->setMaxThreads(settings.maxThreads);
  // The registry enforces maxQueued with a clear reply; POCO's queue must never
  // be the one to refuse, since it closes sockets without a word.
  params->setMaxQueued(settings.maxThreads + settings.maxQueued + 1);
  _server = std::make_unique<Poco::Net::TCPServer>(new EchoConnectionFactory(_settings, _registry, _metrics), _pool,
                                                   _socket, params);
  _server->setConnectionFilter(new AdmissionFilter(_registry, _metrics));
}

EchoServer::~EchoServer() {
  if (!_stopped) {
    try {
      shutdown();
    } catch (...) {
      // A destructor must not throw; shutdown() already logged what it could.
    }
  }
}

void EchoServer::start() { _server->start(); }

EchoServer::Gauges EchoServer::gauges() const {
  return Gauges{_registry.size(),  _server->currentConnections(), _server->queuedConnections(), _settings.maxThreads,
                _pool.allocated(), _registry.draining()};
}

Poco::Net::SocketAddress EchoServer::address() const { return _socket.address(); }

bool EchoServer::shutdown() {
  if (_stopped) return true;
  _stopped = true;
  auto& log = Poco::Logger::get("echod.server");
  log.notice("draining %z connection(s), at most %ld ms", _registry.size(),
             static_cast<long>(_settings.drainTimeout.totalMilliseconds()));
  _registry.beginDrain();
  bool finished = _registry.waitUntilEmpty(_settings.drainTimeout);
  if (!finished) {
    log.warning("%z connection(s) still open after the drain time: sending ERR shutting down", _registry.size());
    _registry.abortAll();
    _registry.waitUntilEmpty(kAbortGrace);
  }
  _server->stop();  // stops the acceptor and drops anything still queued
  _socket.close();  // from now on a connect is refused, not left in the backlog
  _pool.joinAll();
  log.notice("stopped");
  return finished;
}

}  // namespace echod
