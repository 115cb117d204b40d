#include "service/server/Listeners.h"

#include "service/connection/EchoConnection.h"
#include "service/core/ListeningSocket.h"
#include "service/server/ServerSettings.h"
#include "tls/TlsContext.h"

namespace echod {
namespace {

constexpr int kListenBacklog = 4096;  ///< the kernel caps it at net.core.somaxconn

/// Accepted sockets inherit the send timeout and TCP_NODELAY (POCO sets the
/// latter only on what it dispatches, and it dispatches none), and the TCP
/// keepalive and user timeout when set: no set-up call per connection. Reads
/// have no timeout: the housekeeper keeps time.
InheritedOptions inherited(const ServerSettings& settings) {
  return InheritedOptions{EchoConnection::kSendSlice, true, settings.tcpKeepalive, settings.tcpUserTimeoutMs};
}

Poco::Net::ServerSocket plainSocket(const ServerSettings& settings, std::uint16_t port,
                                    tls::ServerCertificates* /*certificates*/) {
  return listeningSocket(settings.host, port, kListenBacklog, inherited(settings));
}

Poco::Net::ServerSocket tlsSocket(const ServerSettings& settings, std::uint16_t port,
                                  tls::ServerCertificates* certificates) {
  const auto& specs = ServerSettings::specs();
  Poco::Net::Context::Ptr context;
  try {
    context = tls::serverContext(
        tls::ServerOptions{settings.tlsCertificate, settingName(specs, "echo.tlsCertificate"), settings.tlsPrivateKey,
                           settingName(specs, "echo.tlsPrivateKey"), settings.tlsMinVersion, settings.tlsAlpn,
                           settings.tlsClientAuth, settings.clientCaFile(), settingName(specs, "echo.tlsClientCa")},
        certificates);
  } catch (const tls::FileError& e) {
    throw SettingsError(e.what());
  }
  return secureListeningSocket(settings.host, port, kListenBacklog, inherited(settings), context);
}

/// ", client certificates required (CAs in FILE)" when asked for; empty otherwise.
std::string clientAuthNote(const ServerSettings& s) {
  if (s.tlsClientAuth == tls::ClientAuth::None) return "";
  return std::string(", client certificates ") +
         (s.tlsClientAuth == tls::ClientAuth::Require ? "required" : "requested") + " (CAs in " + s.tlsClientCa + ")";
}

}  // namespace

const std::vector<ListenerSetup>& listenerSetups() {
  static const std::vector<ListenerSetup> setups{
      {Listener::Plain, "echo.port", [](const ServerSettings& s) { return static_cast<int>(s.port); }, plainSocket,
       [](const ServerSettings&, const std::string& address) { return "listening on " + address; }},
      {Listener::Tls, "echo.tlsPort", [](const ServerSettings& s) { return s.tlsPort; }, tlsSocket,
       [](const ServerSettings& s, const std::string& address) {
         return "listening for TLS on " + address + " (certificate " + s.tlsCertificate + clientAuthNote(s) + ")";
       }},
      {Listener::Proxy, "echo.proxyPort", [](const ServerSettings& s) { return s.proxyPort; }, plainSocket,
       [](const ServerSettings& s, const std::string& address) {
         return "listening for PROXY protocol on " + address + " (from " + s.proxyFrom + ")";
       }},
      {Listener::ProxyTls, "echo.proxyTlsPort", [](const ServerSettings& s) { return s.proxyTlsPort; }, tlsSocket,
       [](const ServerSettings& s, const std::string& address) {
         return "listening for PROXY protocol then TLS on " + address + " (from " + s.proxyFrom + ", certificate " +
                s.tlsCertificate + clientAuthNote(s) + ")";
       }},
  };
  return setups;
}

void checkListenerPorts(const ServerSettings& settings, const SettingReader& read) {
  // The echo port, the admin port, then the other listeners: each against
  // those before it (off or 0 repeats nothing, but is named).
  std::vector<std::pair<std::string_view, int>> ports;
  const auto check = [&](std::string_view setting, int port) {
    std::string others;
    bool repeats = false;
    for (std::size_t i = 0; i < ports.size(); ++i) {
      repeats = repeats || (port > 0 && ports[i].second == port);
      others += std::string(i == 0 ? "" : i + 1 == ports.size() ? " and " : ", ") + std::string(ports[i].first);
    }
    if (repeats) read.reject(setting, std::to_string(port), "a port other than " + others);
    ports.emplace_back(setting, port);
  };
  const auto& setups = listenerSetups();
  check(setups.front().portSetting, setups.front().port(settings));
  check("echo.adminPort", settings.adminPort);
  for (std::size_t i = 1; i < setups.size(); ++i) check(setups[i].portSetting, setups[i].port(settings));
}

}  // namespace echod
