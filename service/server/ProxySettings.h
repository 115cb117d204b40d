#pragma once

#include <Poco/Timespan.h>

#include <string>
#include <vector>

#include "settings/SettingReader.h"

namespace echod {

/// The PROXY protocol listener's settings (docs/protocol.md "The PROXY
/// protocol listener"). One group of ServerSettings.
struct ProxySettings {
  static constexpr int kProxyOff = -1;
  Poco::Timespan proxyHeaderTimeout{5, 0};  ///< from a worker taking the connection to a complete header
  std::string proxyFrom = "any";            ///< who may send a header: any, or CIDRs (ProxySources)
  int proxyPort = kProxyOff;                ///< kProxyOff: no PROXY listener; 0 picks a free port
  bool proxyEnabled() const { return proxyPort != kProxyOff; }

  static std::vector<SettingSpec> specs();
  /// Reads this group's keys; echo.proxyFrom must parse.
  void read(const SettingReader& read);
};

}  // namespace echod
