#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/Rollout.h"
#include "service/core/ListeningSocket.h"
#include "settings/SettingReader.h"

namespace echod {

/// Rollouts and connection lifetime (docs/protocol.md "Rollouts and
/// connection lifetime"): what a replica says it is (labels, version), when
/// the server ends a connection on purpose (its age, its messages), and the
/// TCP keepalive and user timeout of every accepted connection. One group of
/// ServerSettings.
struct RolloutSettings {
  Labels labels;                               ///< echo.labels, in the order given
  std::string serviceVersion = ECHOD_VERSION;  ///< who's "version"
  AgeLimit maxConnectionAge;                   ///< none by default
  std::uint64_t maxMessagesPerConnection = 0;  ///< 0: none
  std::optional<TcpKeepalive> tcpKeepalive;    ///< off by default
  int tcpUserTimeoutMs = 0;                    ///< 0: the kernel's

  static std::vector<SettingSpec> specs();
  void read(const SettingReader& read);
  /// The start-up log's line on these settings: the version and labels, then
  /// what is set of the rest.
  std::string describeRollout() const;
};

}  // namespace echod
