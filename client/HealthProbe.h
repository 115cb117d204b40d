#pragma once

#include <string>

#include "client/ClientSettings.h"
#include "client/ServerConnector.h"

namespace echod {

/// `echo-client --check`: one short conversation that proves the server
/// works end to end (connect, exact echo of a random token, `exit` → FIN),
/// all within the timeout. For container health checks.
class HealthProbe {
 public:
  HealthProbe(const ClientSettings& settings, const ServerConnector& connector)
      : _settings(settings), _connector(connector) {}

  /// True when the server passed; `report` says what was seen, in one line.
  bool run(std::string& report);

 private:
  const ClientSettings& _settings;
  const ServerConnector& _connector;
};

}  // namespace echod
