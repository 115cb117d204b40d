#pragma once

#include <vector>

#include "protocol/FaultPlan.h"
#include "settings/SettingReader.h"

namespace echod {

/// Faults on demand (docs/protocol.md "Faults on demand"), on every TCP
/// listener: the options themselves are protocol/FaultPlan's. One group of
/// ServerSettings.
struct FaultSettings {
  FaultOptions faults;

  static std::vector<SettingSpec> specs();
  void read(const SettingReader& read);
};

}  // namespace echod
