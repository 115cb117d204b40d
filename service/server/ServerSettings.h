#pragma once

#include <Poco/Util/AbstractConfiguration.h>

#include <vector>

#include "service/server/AdminSettings.h"
#include "service/server/CoreSettings.h"
#include "service/server/FaultSettings.h"
#include "service/server/ProxySettings.h"
#include "service/server/RolloutSettings.h"
#include "service/server/TlsSettings.h"
#include "service/server/UdpSettings.h"
#include "settings/SettingReader.h"

namespace echod {

/// Every setting of echo-server, with its default, read and checked once at
/// start-up from POCO's layered configuration (defaults < file < environment
/// < command line). Nothing else in the server reads configuration keys.
/// It is the sum of its groups, one by feature, each with its own keys,
/// read, checks and description: a room takes its group, never the whole.
/// docs/configuration.md describes each setting.
struct ServerSettings : CoreSettings,
                        AdminSettings,
                        TlsSettings,
                        ProxySettings,
                        UdpSettings,
                        FaultSettings,
                        RolloutSettings {
  /// The table behind the options, the environment variables and --help: the groups' in turn.
  static const std::vector<SettingSpec>& specs();

  /// Reads and validates; throws SettingsError naming the first bad setting.
  static ServerSettings fromConfig(const Poco::Util::AbstractConfiguration& config);

  /// These settings with maxThreads (when 0) set to `poolThreads`, and
  /// minThreads (when 0) to min(kDefaultMinThreads, maxThreads). Throws
  /// SettingsError when an explicit minThreads exceeds maxThreads.
  ServerSettings withPool(int poolThreads) const;
};

}  // namespace echod
