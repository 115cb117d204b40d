#pragma once

#include <Poco/Timespan.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/EchoSession.h"
#include "settings/SettingReader.h"

namespace echod {

/// Every setting of echo-server, with its default, read and checked once at
/// start-up from POCO's layered configuration (defaults < file < environment
/// < command line). Nothing else in the server reads configuration keys.
/// docs/configuration.md describes each one.
/// How the kernel schedules worker threads (docs/performance.md, "Scheduling").
enum class WorkerScheduling {
  Batch,   ///< SCHED_BATCH: a woken worker does not preempt a running one
  Normal,  ///< SCHED_OTHER, the kernel's default
};

struct ServerSettings {
  std::string host = "0.0.0.0";
  std::uint16_t port = 4567;
  SessionOptions session;  ///< framing, prefix, maxLineLength
  Poco::Timespan idleTimeout{300, 0};
  int maxThreads = 256;
  int minThreads = 16;  ///< started up front and kept: a burst does not wait for thread creation
  int maxQueued = 64;
  Poco::Timespan drainTimeout{5, 0};
  int maxConnectionsPerAddress = 0;  ///< 0: no limit
  int threadStackSize = 256 * 1024;
  WorkerScheduling workerScheduling = WorkerScheduling::Normal;
  std::string logLevel = "information";
  bool jsonLogs = false;           ///< --log-format=json
  std::uint16_t adminPort = 9090;  ///< /healthz and /metrics; 0: off

  /// The table behind the options, the environment variables and --help.
  static const std::vector<SettingSpec>& specs();

  /// Reads and validates; throws SettingsError naming the first bad setting.
  static ServerSettings fromConfig(const Poco::Util::AbstractConfiguration& config);
};

}  // namespace echod
