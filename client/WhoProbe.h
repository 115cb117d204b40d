#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "protocol/Rollout.h"

#include "client/ClientSettings.h"
#include "client/ServerConnector.h"

namespace echod {

/// Asks the server's who command (docs/protocol.md, "Who answered"): once
/// (--who), or on N fresh connections to see how a load balancer or a
/// Service spreads them over replicas (--spread).
class WhoProbe {
 public:
  WhoProbe(const ClientSettings& settings, const ServerConnector& connector)
      : _settings(settings), _connector(connector) {}

  /// --who: prints the server's JSON line to stdout. Exit status: 0, 1 when
  /// the reply is not a JSON object, 2 when it cannot connect.
  int who();

  /// How N connections spread.
  struct Spread {
    int connections = 0;
    int answered = 0;
    std::string by = "replica";                     ///< the field grouped by (--by)
    std::map<std::string, std::uint64_t> replicas;  ///< connections by that field's value
    std::vector<BandCheck> checks;                  ///< --expect: each band against its share
    std::string lastError;                          ///< why the last unanswered one was not
    /// Every connection answered, and every band holds: exit 0.
    bool ok() const;
    std::string text() const;  ///< a table a person reads at a glance
    std::string json() const;
  };
  /// --spread=N: one connection after another, each asked once, then `exit`.
  Spread spread();

 private:
  /// One fresh connection's who answer (the JSON line); throws Poco::Exception.
  std::string askOnce();

  const ClientSettings& _settings;
  const ServerConnector& _connector;
};

}  // namespace echod
