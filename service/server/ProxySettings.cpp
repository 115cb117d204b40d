#include "service/server/ProxySettings.h"

#include <stdexcept>

#include "service/connection/ProxySources.h"

namespace echod {

std::vector<SettingSpec> ProxySettings::specs() {
  const ProxySettings d;
  return {
      {"echo.proxyPort", "proxy-port", "ECHO_PROXY_PORT", "N|off",
       "PROXY protocol port: every connection starts with a v1 or v2 header from a load balancer; 0 picks a free one",
       "off"},
      {"echo.proxyHeaderTimeout", "proxy-header-timeout", "ECHO_PROXY_HEADER_TIMEOUT", "SECONDS",
       "close a PROXY-port connection whose header is not complete this long after a worker took it",
       defaultSeconds(d.proxyHeaderTimeout)},
      {"echo.proxyFrom", "proxy-from", "ECHO_PROXY_FROM", "any|CIDR,...",
       "peers allowed on the PROXY port, e.g. 10.0.0.0/8,fd00::/8; others get 'ERR proxy not allowed'", d.proxyFrom},
  };
}

void ProxySettings::read(const SettingReader& read) {
  if (read.text("echo.proxyPort", "off", 16) != "off") {
    proxyPort = static_cast<int>(read.integer("echo.proxyPort", 0, 0, 65535));
  }
  proxyHeaderTimeout = read.seconds("echo.proxyHeaderTimeout", proxyHeaderTimeout, 0.1, 3600);
  proxyFrom = read.text("echo.proxyFrom", proxyFrom, 4096);
  try {
    ProxySources::parse(proxyFrom);
  } catch (const std::invalid_argument& e) {
    read.reject("echo.proxyFrom", proxyFrom, std::string("'any' or comma-separated CIDRs: ") + e.what());
  }
}

}  // namespace echod
