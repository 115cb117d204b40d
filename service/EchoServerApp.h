#pragma once

#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <string>
#include <vector>

namespace echod {

/// The echo-server program: options, configuration layers, logging, start,
/// wait for SIGTERM/SIGINT, drain, stop (see DESIGN in docs/).
class EchoServerApp : public Poco::Util::ServerApplication {
 protected:
  void initialize(Poco::Util::Application& self) override;
  void defineOptions(Poco::Util::OptionSet& options) override;
  int main(const std::vector<std::string>& args) override;

 private:
  void handleHelp(const std::string& name, const std::string& value);
  void handleConfigFile(const std::string& name, const std::string& value);

  bool _helpRequested = false;
  bool _configFileGiven = false;
};

}  // namespace echod
