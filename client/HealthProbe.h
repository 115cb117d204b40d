#pragma once

#include <string>

#include "client/ClientSettings.h"

namespace echod {

/// `echo-client --check`: one short conversation that proves the server
/// works end to end (connect, exact echo of a random token, `exit` → FIN),
/// all within the timeout. For container health checks.
class HealthProbe {
 public:
  explicit HealthProbe(const ClientSettings& settings) : _settings(settings) {}

  /// True when the server passed; `report` says what was seen, in one line.
  bool run(std::string& report);

 private:
  const ClientSettings& _settings;
};

}  // namespace echod
