#pragma once

#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/OptionSet.h>

#include <string>
#include <vector>

#include "settings/SettingReader.h"

/// What echo-server's and echo-client's Poco::Util applications share.
namespace echod::app {

/// Between the properties file (PRIO_DEFAULT, 0) and the command line
/// (PRIO_APPLICATION, -100): environment variables beat the file.
constexpr int kEnvironmentPriority = -50;

/// Adds the `ECHO_*` variables named by `specs` as a configuration layer at kEnvironmentPriority.
void addEnvironment(Poco::Util::LayeredConfiguration& config, const std::vector<SettingSpec>& specs);

/// Prints --help: usage, `header`, every option with its default, `footer`.
void printHelp(const Poco::Util::OptionSet& options, const std::string& command, const std::string& header,
               const std::string& footer);

/// Options take --name=value; a bare word is a mistake. Prints one line and
/// returns false when `args` is not empty.
bool noArguments(const std::vector<std::string>& args, const std::string& program);

}  // namespace echod::app
