#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <Poco/Util/ServerApplication.h>

#include <string>
#include <vector>

namespace echod {

/// The echo-server program, in POCO's ServerApplication shape: options and
/// configuration layers → settings → logging → build → start → wait for
/// SIGTERM/SIGINT → drain and stop (docs/architecture.md, "Shutdown").
class EchoServerApp : public Poco::Util::ServerApplication {
 protected:
  void initialize(Poco::Util::Application& self) override;
  void defineOptions(Poco::Util::OptionSet& options) override;
  int main(const std::vector<std::string>& args) override;

 private:
  void handleHelp(const std::string& name, const std::string& value);
  void handleConfigFile(const std::string& name, const std::string& value);
  void loadConfigFile(const std::string& path, const std::string& givenBy);
  void warnAboutUnknownSettings(Poco::Logger& log) const;

  bool _helpRequested = false;
  Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> _configFile;  ///< also in config(), kept to list its keys
  std::string _configPath;
  std::string _configError;  ///< set when the file cannot be read; main() reports it
};

}  // namespace echod
