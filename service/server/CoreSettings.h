#pragma once

#include <Poco/Timespan.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/EchoSession.h"
#include "service/connection/WorkerScheduling.h"
#include "settings/SettingReader.h"

namespace echod {

/// The echo service's own settings (docs/configuration.md): where it
/// listens, how it answers, its workers and queue, its deadlines, who it says
/// it is (docs/protocol.md "Who answered"), and its log. One group of
/// ServerSettings.
struct CoreSettings {
  std::string host = "0.0.0.0";
  std::uint16_t port = 4567;
  SessionOptions session;                      ///< framing, prefix, maxLineLength, whoCommand
  Poco::Timespan idleTimeout{300, 0};          ///< no complete message for this long: ERR idle timeout
  Poco::Timespan idleTimeoutUnderLoad{10, 0};  ///< the same while connections wait for a thread; 0: off
  Poco::Timespan queueTimeout{5, 0};           ///< longest wait for a thread before ERR server busy
  int maxThreads = 0;                          ///< 0: sized from the machine's limits (PoolSizing)
  int minThreads = 0;                          ///< started up front and kept; 0: min(kDefaultMinThreads, maxThreads)
  static constexpr int kDefaultMinThreads = 16;
  int maxQueued = 64;
  Poco::Timespan drainTimeout{5, 0};
  Poco::Timespan shutdownDelay{0, 0};  ///< after the signal: /readyz 503, still serving, before the drain
  int maxConnectionsPerAddress = 0;    ///< 0: no limit
  int threadStackSize = 256 * 1024;
  WorkerScheduling workerScheduling = WorkerScheduling::Normal;
  // Who answered (docs/protocol.md "Who answered"); the who command is session.whoCommand.
  std::string banner;  ///< sent first on every connection; empty: off
  std::string logLevel = "information";
  bool jsonLogs = false;  ///< --log-format=json

  static std::vector<SettingSpec> specs();
  /// Reads this group's keys and checks them on their own.
  void read(const SettingReader& read);
  /// The start-up log's "settings:" line.
  std::string describe() const;
  /// The start-up log's line on the who command and the banner; empty when both are off.
  std::string describeWho() const;
};

}  // namespace echod
