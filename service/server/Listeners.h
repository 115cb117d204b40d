#pragma once

#include <Poco/Net/ServerSocket.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "service/core/Listener.h"
#include "settings/SettingReader.h"

namespace echod {
namespace tls {
class ServerCertificates;
}

struct ServerSettings;

/// One TCP listener of the server, as data beside its kind (service/core/
/// Listener.h): the setting of its port, how its listening socket is made,
/// and its start-up log line. EchoServer builds, starts, names and stops
/// every listener in one loop over these: adding a listener is adding an
/// entry (and its kind).
struct ListenerSetup {
  Listener id;
  std::string_view portSetting;                 ///< e.g. "echo.tlsPort"
  int (*port)(const ServerSettings& settings);  ///< its port; negative: the listener is off
  /// Binds and listens on host:port (throws Poco::Exception, or SettingsError for an unusable TLS file); a TLS
  /// listener's handshakes take their certificate from `certificates`.
  Poco::Net::ServerSocket (*socket)(const ServerSettings& settings, std::uint16_t port,
                                    tls::ServerCertificates* certificates);
  /// The start-up log's line for the listener bound to `address`.
  std::string (*startLine)(const ServerSettings& settings, const std::string& address);
};

/// Every TCP listener, in the order they are built and named.
const std::vector<ListenerSetup>& listenerSetups();

/// A listener (TCP or UDP) that could not bind, named by its setting:
/// "cannot listen on 0.0.0.0:4568 (echo.tlsPort): Address already in use".
class ListenError : public std::runtime_error {
 public:
  ListenError(std::string_view setting, const std::string& host, int port, const std::string& why)
      : std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + " (" + std::string(setting) +
                           "): " + why) {}
};

/// The listeners' ports and the admin port (those not 0, which picks a free
/// one) differ: throws SettingsError naming the first that repeats an earlier one.
void checkListenerPorts(const ServerSettings& settings, const SettingReader& read);

}  // namespace echod
