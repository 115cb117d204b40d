#pragma once

#include <Poco/Timespan.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/EchoSession.h"
#include "protocol/FaultPlan.h"
#include "service/connection/WorkerScheduling.h"
#include "settings/SettingReader.h"
#include "tls/TlsContext.h"

namespace echod {

/// Every setting of echo-server, with its default, read and checked once at
/// start-up from POCO's layered configuration (defaults < file < environment
/// < command line). Nothing else in the server reads configuration keys.
/// docs/configuration.md describes each one.
struct ServerSettings {
  std::string host = "0.0.0.0";
  std::uint16_t port = 4567;
  SessionOptions session;                      ///< framing, prefix, maxLineLength
  Poco::Timespan idleTimeout{300, 0};          ///< no complete message for this long: ERR idle timeout
  Poco::Timespan idleTimeoutUnderLoad{10, 0};  ///< the same while connections wait for a thread; 0: off
  Poco::Timespan queueTimeout{5, 0};           ///< longest wait for a thread before ERR server busy
  int maxThreads = 0;                          ///< 0: sized from the machine's limits (PoolSizing)
  int minThreads = 0;                          ///< started up front and kept; 0: min(kDefaultMinThreads, maxThreads)
  static constexpr int kDefaultMinThreads = 16;
  int maxQueued = 64;
  Poco::Timespan drainTimeout{5, 0};
  Poco::Timespan shutdownDelay{0, 0};  ///< after the signal: /readyz 503, still serving, before the drain
  int maxConnectionsPerAddress = 0;    ///< 0: no limit
  int threadStackSize = 256 * 1024;
  WorkerScheduling workerScheduling = WorkerScheduling::Normal;
  std::string logLevel = "information";
  bool jsonLogs = false;           ///< --log-format=json
  std::uint16_t adminPort = 9090;  ///< /healthz and /metrics; 0: off
  // The TLS listener (docs/configuration.md "TLS"): same pool, registry and protocol.
  static constexpr int kTlsOff = -1;
  int tlsPort = kTlsOff;       ///< kTlsOff: no TLS listener; 0 picks a free port
  std::string tlsCertificate;  ///< PEM certificate chain, leaf first
  std::string tlsPrivateKey;   ///< PEM private key, unencrypted
  tls::MinVersion tlsMinVersion = tls::MinVersion::Tls12;
  Poco::Timespan tlsHandshakeTimeout{10, 0};  ///< from a worker taking the connection to a finished handshake
  bool tlsEnabled() const { return tlsPort != kTlsOff; }
  // The PROXY protocol listener (docs/configuration.md "Behind a load balancer").
  static constexpr int kProxyOff = -1;
  Poco::Timespan proxyHeaderTimeout{5, 0};  ///< from a worker taking the connection to a complete header
  std::string proxyFrom = "any";            ///< who may send a header: any, or CIDRs (ProxySources)
  int proxyPort = kProxyOff;                ///< kProxyOff: no PROXY listener; 0 picks a free port
  bool proxyEnabled() const { return proxyPort != kProxyOff; }
  // The web console on the admin port (docs/configuration.md "Web console").
  int consoleSessions = 8;  ///< console sessions at once; each holds a worker and an admin thread
  bool console = true;
  bool consoleShowAddresses = false;  ///< full client addresses also to browsers not on loopback
  bool adminControl = false;  ///< the readiness switch: POST /readyz/disable and /readyz/enable on the admin port
  // Who answered (docs/protocol.md "Who answered"); the who command is session.whoCommand.
  std::string banner;  ///< sent first on every connection; empty: off
  // UDP echo (docs/protocol.md "UDP"), beside TCP on the same host.
  static constexpr int kUdpOff = -1;
  int udpPort = kUdpOff;                  ///< kUdpOff: no UDP; 0 picks a free port
  int udpThreads = 1;                     ///< receiving threads, each on its own SO_REUSEPORT socket
  std::int64_t udpRatePerAddress = 1000;  ///< replies a second to one source address; 0: no limit
  bool udpEnabled() const { return udpPort != kUdpOff; }
  // Faults on demand (docs/protocol.md "Faults on demand"): every TCP listener.
  FaultOptions faults;

  /// The table behind the options, the environment variables and --help.
  static const std::vector<SettingSpec>& specs();

  /// Reads and validates; throws SettingsError naming the first bad setting.
  static ServerSettings fromConfig(const Poco::Util::AbstractConfiguration& config);

  /// These settings with maxThreads (when 0) set to `poolThreads`, and
  /// minThreads (when 0) to min(kDefaultMinThreads, maxThreads). Throws
  /// SettingsError when an explicit minThreads exceeds maxThreads.
  ServerSettings withPool(int poolThreads) const;
};

}  // namespace echod
