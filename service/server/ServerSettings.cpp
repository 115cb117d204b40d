#include "service/server/ServerSettings.h"

#include <algorithm>
#include <string>

#include "service/server/Listeners.h"

namespace echod {

const std::vector<SettingSpec>& ServerSettings::specs() {
  static const std::vector<SettingSpec> table = [] {
    std::vector<SettingSpec> all;
    for (auto group : {CoreSettings::specs(), AdminSettings::specs(), TlsSettings::specs(), ProxySettings::specs(),
                       UdpSettings::specs(), FaultSettings::specs(), RolloutSettings::specs()}) {
      all.insert(all.end(), group.begin(), group.end());
    }
    return all;
  }();
  return table;
}

ServerSettings ServerSettings::fromConfig(const Poco::Util::AbstractConfiguration& config) {
  const SettingReader read(config, specs());
  // Kubernetes injects ECHO_PORT=tcp://10.0.0.1:4567 (and ECHO_TLS_PORT...)
  // into every pod beside a Service named echo: say so, not just "bad port".
  for (const char* key : {"echo.port", "echo.adminPort", "echo.tlsPort", "echo.proxyPort", "echo.udpPort"}) {
    const std::string value = config.getString(key, "");
    if (value.rfind("tcp://", 0) == 0 || value.rfind("udp://", 0) == 0) {
      read.reject(key, value,
                  "a port number; this looks like a Kubernetes service link (a Service named echo injects "
                  "ECHO_PORT=tcp://IP:PORT): set enableServiceLinks: false in the pod spec");
    }
  }
  ServerSettings s;
  s.CoreSettings::read(read);
  s.AdminSettings::read(read);
  s.TlsSettings::read(read);
  s.ProxySettings::read(read);
  s.UdpSettings::read(read);
  s.FaultSettings::read(read);
  s.RolloutSettings::read(read);
  // What one group cannot check alone, then what each checks across its own keys.
  checkListenerPorts(s, read);
  s.TlsSettings::check(read);
  return s;
}

ServerSettings ServerSettings::withPool(int poolThreads) const {
  ServerSettings s = *this;
  if (s.maxThreads == 0) s.maxThreads = std::max(1, poolThreads);
  if (s.minThreads == 0) s.minThreads = std::min(kDefaultMinThreads, s.maxThreads);
  if (s.minThreads > s.maxThreads) {
    throw SettingsError("invalid value '" + std::to_string(s.minThreads) +
                        "' for echo.minThreads (--min-threads, ECHO_MIN_THREADS): at most the worker pool's " +
                        std::to_string(s.maxThreads) + " threads sized from this machine's limits");
  }
  return s;
}

}  // namespace echod
