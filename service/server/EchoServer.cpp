#include "service/server/EchoServer.h"

#include <Poco/Logger.h>
#include <Poco/Stopwatch.h>

#include <algorithm>

#include "service/connection/AdmissionFilter.h"
#include "service/connection/EchoConnection.h"
#include "service/connection/EchoWorkerFactory.h"
#include "service/connection/ProxySources.h"
#include "service/connection/WorkerHandOff.h"
#include "service/core/ListeningSocket.h"

namespace echod {
namespace {

constexpr int kPoolSpareThreads = 4;     ///< threads that may still be on their way out when others start
const Poco::Timespan kAbortGrace(1, 0);  ///< after the drain time, for the ERR lines to go out
/// At most this many finished connections linger with the housekeeper at
/// once; beyond, a worker lingers on its own thread.
constexpr std::size_t kLingeringMax = 1024;

PoolSize sizePool(const ServerSettings& settings) {
  if (settings.maxThreads > 0) return PoolSize{settings.maxThreads, "echo.maxThreads", ""};
  return PoolSizing::fromLimits(readMachineLimits(), settings.maxQueued);
}

std::int64_t ms(const Poco::Timespan& t) { return t.totalMilliseconds(); }

ConnectionOptions connectionOptions(const ServerSettings& s) {
  ConnectionOptions o;
  o.session = s.session;
  o.session.maxMessages = s.maxMessagesPerConnection;
  o.maxAge = s.maxConnectionAge;
  o.idleTimeout = s.idleTimeout;
  o.tlsHandshakeTimeout = s.tlsHandshakeTimeout;
  o.proxyHeaderTimeout = s.proxyHeaderTimeout;
  o.workerScheduling = s.workerScheduling;
  o.console = s.console;
  o.banner = s.banner;
  o.prefixPlaceholders = hasPlaceholders(s.session.prefix);
  o.faults = s.faults;
  if (o.personalized()) o.identity = ServerIdentity::fromEnvironment(s.serviceVersion, s.labels);
  return o;
}

}  // namespace

EchoServer::EchoServer(const ServerSettings& settings)
    : _poolSize(sizePool(settings)),
      _settings(settings.withPool(_poolSize.threads)),
      _registry(static_cast<std::size_t>(_settings.maxThreads) + static_cast<std::size_t>(_settings.maxQueued),
                static_cast<std::size_t>(_settings.maxConnectionsPerAddress),
                WorkerHandOff::Limits{static_cast<std::size_t>(_settings.minThreads),
                                      static_cast<std::size_t>(_settings.maxThreads)}),
      _lingering(kLingeringMax),
      _context{connectionOptions(_settings), _registry, _lingering, _events, _metrics},
      _certificates(_settings.tlsEnabled() || _settings.proxyTlsEnabled()
                        ? std::make_unique<tls::ServerCertificates>(_settings.tlsCertificate, _settings.tlsPrivateKey,
                                                                    _settings.clientCaFile())
                        : nullptr),
      _housekeeper(
          _registry, _lingering, _metrics,
          ConnectionRegistry::SweepRules{ms(_settings.idleTimeout), ms(_settings.idleTimeoutUnderLoad),
                                         ms(_settings.queueTimeout), static_cast<std::size_t>(_settings.maxThreads)}),
      _workers(_context, _settings.threadStackSize),
      // POCO's TCPServer wants a pool for its dispatcher, which admission
      // never hands a socket (EchoWorkerFactory): the smallest there is.
      _dispatcherPool("dispatch", 1, 1) {
  const auto sources = ProxySources::parse(_settings.proxyFrom);
  for (const ListenerSetup& setup : listenerSetups()) {
    const int port = setup.port(_settings);
    if (port < 0) continue;  // off
    RunningListener listener{&setup, nullptr, nullptr};
    try {
      listener.socket = std::make_unique<Poco::Net::ServerSocket>(
          setup.socket(_settings, static_cast<std::uint16_t>(port), _certificates.get()));
    } catch (const Poco::Exception& e) {
      throw ListenError(setup.portSetting, _settings.host, port, e.displayText());
    }
    listener.server = std::make_unique<Poco::Net::TCPServer>(new EchoWorkerFactory, _dispatcherPool, *listener.socket);
    const bool checksSources = kindOf(setup.id).proxyHeader && !sources.any();
    listener.server->setConnectionFilter(new AdmissionFilter(
        _registry, _workers, _metrics, setup.id, checksSources ? std::optional<ProxySources>(sources) : std::nullopt));
    _listeners.push_back(std::move(listener));
  }
  if (_settings.udpEnabled()) {
    UdpEchoServer::Options udp{_settings.session.prefix, _settings.session.whoCommand, _context.options.identity,
                               static_cast<std::uint32_t>(_settings.udpRatePerAddress), _settings.udpThreads};
    try {
      _udp = std::make_unique<UdpEchoServer>(bindAddress(_settings.host, static_cast<std::uint16_t>(_settings.udpPort)),
                                             std::move(udp), _metrics);
    } catch (const Poco::Exception& e) {
      throw ListenError("echo.udpPort", _settings.host, _settings.udpPort, e.displayText());
    }
  }
  if (_certificates) {
    // The files were checked as the listeners' contexts were made: the first look loads them.
    checkCertificates();
    _housekeeper.every(ms(_settings.tlsReloadInterval), [this] { checkCertificates(); });
  }
  const int slots = sizeFutexHash(_settings.maxThreads + kPoolSpareThreads);
  Poco::Logger::get("echod.server").debug("futex hash: %d slots (0: the kernel's global hash)", slots);
}

void EchoServer::checkCertificates() {
  const auto check = _certificates->checkFiles();
  auto& log = Poco::Logger::get("echod.server");
  if (check.result == tls::ServerCertificates::Check::Result::Loaded) {
    const std::string clientCas = _settings.clientCaFile();
    log.notice("TLS certificate read again (" + _settings.tlsCertificate + ", " + _settings.tlsPrivateKey +
               (clientCas.empty() ? std::string() : ", client CAs " + clientCas) +
               "): new handshakes use it, open connections keep theirs");
  } else if (check.result == tls::ServerCertificates::Check::Result::Failed) {
    log.error("TLS certificate files changed but do not load, the one in use stays: " + check.why);
  }
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

void EchoServer::start() {
  _workers.start(static_cast<std::size_t>(_settings.minThreads));
  _housekeeper.start();
  for (auto& listener : _listeners) listener.server->start();
  if (_udp) _udp->start();
}

EchoServer::Gauges EchoServer::gauges() const {
  const auto counts = _registry.counts();
  return Gauges{counts.running + counts.queued,       counts.running,       counts.queued, _settings.maxThreads,
                static_cast<int>(_workers.threads()), _registry.draining(), counts.open};
}

std::optional<Poco::Net::SocketAddress> EchoServer::listenerAddress(Listener id) const {
  for (const auto& listener : _listeners) {
    if (listener.setup->id == id) return listener.socket->address();
  }
  return std::nullopt;
}

Poco::Net::SocketAddress EchoServer::addressOf(Listener id) const {
  if (const auto address = listenerAddress(id)) return *address;
  for (const ListenerSetup& setup : listenerSetups()) {
    if (setup.id == id) {
      throw Poco::IllegalStateException("the " + std::string(listenerName(id)) + " listener is off (" +
                                        std::string(setup.portSetting) + ")");
    }
  }
  throw Poco::IllegalStateException("no such listener");
}

std::vector<std::string> EchoServer::describeListeners() const {
  std::vector<std::string> lines;
  for (const auto& listener : _listeners) {
    lines.push_back(listener.setup->startLine(_settings, listener.socket->address().toString()));
  }
  return lines;
}

Poco::Net::SocketAddress EchoServer::udpAddress() const {
  if (!_udp) throw Poco::IllegalStateException("UDP is off (echo.udpPort)");
  return _udp->address();
}

bool EchoServer::shutdown() {
  if (_stopped) return true;
  _stopped = true;
  leaveRotation();
  Poco::Stopwatch draining;
  draining.start();
  auto& log = Poco::Logger::get("echod.server");
  log.notice("draining %z connection(s), at most %ld ms", _registry.size(),
             static_cast<long>(_settings.drainTimeout.totalMilliseconds()));
  if (_udp) _udp->stop();  // no connection to drain: UDP stops with the drain's start
  const std::size_t queued = _registry.beginDrain();
  _metrics.count(_metrics.refused[ConnectionMetrics::slot(ErrorReason::ShuttingDown)], queued);
  if (queued > 0) log.notice("%z queued connection(s) answered ERR shutting down", queued);
  bool finished = _registry.waitUntilEmpty(_settings.drainTimeout);
  if (!finished) {
    log.warning("%z connection(s) still open after the drain time: sending ERR shutting down", _registry.size());
    _registry.abortAll();
    _registry.waitUntilEmpty(kAbortGrace);
  }
  for (auto& listener : _listeners) {
    listener.server->stop();   // stops the acceptor and drops anything still queued
    listener.socket->close();  // from now on a connect is refused, not left in the backlog
  }
  _workers.stop();
  // Finished connections still waiting for their client's close (each within
  // EchoConnection::kLingerTime), inside the bound the drain promised; then
  // whatever is left is closed.
  const std::int64_t promisedMs = ms(_settings.drainTimeout) + ms(kAbortGrace);
  const std::int64_t lingerMs = EchoConnection::kLingerTime.totalMilliseconds() + 2 * Housekeeper::kTickMs;
  _lingering.waitUntilEmpty(std::clamp<std::int64_t>(promisedMs - draining.elapsed() / 1000, 0, lingerMs));
  _housekeeper.stop();
  _lingering.closeAll();
  log.notice("stopped");
  return finished;
}

}  // namespace echod
