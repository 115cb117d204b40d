#pragma once

#include <cstdint>
#include <vector>

#include "settings/SettingReader.h"

namespace echod {

/// The admin port's settings: /healthz, /readyz, /metrics, the readiness
/// switch, and the web console (docs/configuration.md "Web console"). One
/// group of ServerSettings; the admin server takes it.
struct AdminSettings {
  std::uint16_t adminPort = 9090;  ///< /healthz and /metrics; 0: off
  bool adminControl = false;       ///< the readiness switch: POST /readyz/disable and /readyz/enable on the admin port
  int consoleSessions = 8;         ///< console sessions at once; each holds a worker and an admin thread
  bool console = true;
  bool consoleShowAddresses = false;  ///< full client addresses also to browsers not on loopback

  static std::vector<SettingSpec> specs();
  void read(const SettingReader& read);
};

}  // namespace echod
