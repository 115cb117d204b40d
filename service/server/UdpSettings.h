#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "settings/SettingReader.h"

namespace echod {

/// UDP echo's settings (docs/protocol.md "UDP"), beside TCP on the same
/// host. One group of ServerSettings.
struct UdpSettings {
  static constexpr int kUdpOff = -1;
  int udpPort = kUdpOff;                  ///< kUdpOff: no UDP; 0 picks a free port
  int udpThreads = 1;                     ///< receiving threads, each on its own SO_REUSEPORT socket
  std::int64_t udpRatePerAddress = 1000;  ///< replies a second to one source address; 0: no limit
  bool udpEnabled() const { return udpPort != kUdpOff; }

  static std::vector<SettingSpec> specs();
  void read(const SettingReader& read);
  /// The start-up log's line, for UDP bound to `address`.
  std::string startLine(const std::string& address) const;
};

}  // namespace echod
