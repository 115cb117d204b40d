#pragma once

#include <Poco/Timespan.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/EchoSession.h"
#include "protocol/ProxyHeader.h"
#include "protocol/Rollout.h"
#include "settings/SettingReader.h"

namespace echod {

/// What echo-client does this run.
enum class ClientMode { Interactive, Scripted, Check, Bench, Who, Spread, FindIdleTimeout };

/// Every setting of echo-client, with its default, read and checked once from
/// POCO's layered configuration (defaults < environment < command line).
/// ECHO_HOST/PORT/FRAMING/PREFIX are shared with the server on purpose (see specs()).
struct ClientSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4567;
  Framing framing = Framing::Line;
  std::string prefix{kDefaultPrefix};  ///< what the server puts before an echo (--check, --bench verify it)
  Poco::Timespan timeout{2, 0};        ///< connect, and the longest wait for a reply
  ClientMode mode = ClientMode::Interactive;
  std::vector<std::string> messages;  ///< --send, in order
  std::vector<std::string> warnings;  ///< options given that this mode ignores, for stderr

  bool udp = false;  ///< --udp: datagrams, for --send, --check, --who and --bench (UdpEchoClient)

  // --tls
  static constexpr std::uint16_t kDefaultTlsPort = 4568;  ///< the port with --tls, unless --port says otherwise
  bool tls = false;
  std::string tlsCa;                 ///< PEM CA file (or directory) to trust; empty: the system's
  bool tlsInsecure = false;          ///< no certificate check
  std::vector<std::string> tlsAlpn;  ///< ALPN names offered; empty: none
  std::string tlsServerName;         ///< SNI and the name the certificate must carry; empty: the host
  std::string tlsCertificate;        ///< PEM client certificate presented when asked; empty: none
  std::string tlsPrivateKey;         ///< its private key
  /// The name sent as SNI and checked in the server's certificate.
  const std::string& serverName() const { return tlsServerName.empty() ? host : tlsServerName; }

  // --proxy-protocol: a PROXY header before anything else, in every mode
  enum class Proxy : std::uint8_t { Off, V1, V2 };
  Proxy proxyProtocol = Proxy::Off;
  std::optional<ProxyAddress> proxySource;  ///< --proxy-source; unset: the socket's own address

  // --who, --spread
  std::string whoCommand = "who";
  int spread = 0;  ///< --spread=N: fresh connections to ask
  /// --by: the who field --spread groups by: "replica" (pod, else
  /// hostname), "hostname", "pod", "version", or "label:KEY".
  std::string spreadBy = "replica";
  std::vector<ShareBand> expect;  ///< --expect: the share each value must get; empty: none

  /// --find-idle-timeout=MAX: the longest silence to try, in seconds; 0: off.
  double findIdleTimeout = 0;

  // --bench
  int connections = 1;
  int size = 16;                  ///< bytes of each message, not counting '\n'
  Poco::Timespan duration{5, 0};  ///< 0: run until --messages; --messages alone makes it 0
  std::int64_t messagesPerConnection = 0;
  /// --rate: messages (the connect workload: connections) a second in all,
  /// paced evenly over the connections; 0: as fast as the replies come.
  std::int64_t rate = 0;
  int pipeline = 1;
  bool json = false;
  bool connectStorm = false;  ///< --workload=connect: connect, one round trip, close
  bool reconnect = false;     ///< --reconnect: a connection that ends is opened again; breaks are counted

  static const std::vector<SettingSpec>& specs();
  /// Reads and validates; throws SettingsError naming the first bad setting.
  static ClientSettings fromConfig(const Poco::Util::AbstractConfiguration& config);

 private:
  static void readBench(const SettingReader& read, ClientSettings& s);
  static void readUdp(const SettingReader& read, ClientSettings& s);
  static void readSpread(const SettingReader& read, ClientSettings& s);
};

}  // namespace echod
