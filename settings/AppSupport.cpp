#include "settings/AppSupport.h"

#include <Poco/Util/HelpFormatter.h>

#include <iostream>

namespace echod::app {

void addEnvironment(Poco::Util::LayeredConfiguration& config, const std::vector<SettingSpec>& specs) {
  config.add(environmentLayer(specs), kEnvironmentPriority, false);
}

void printHelp(const Poco::Util::OptionSet& options, const std::string& command, const std::string& header,
               const std::string& footer) {
  Poco::Util::HelpFormatter help(options);
  help.setCommand(command);
  help.setUsage("[--name=value ...]");
  help.setHeader(header);
  help.setFooter(footer);
  help.setUnixStyle(true);
  help.setWidth(110);
  help.format(std::cout);
}

bool noArguments(const std::vector<std::string>& args, const std::string& program) {
  if (args.empty()) return true;
  std::cerr << program << ": unexpected argument '" << args.front() << "' (options take --name=value)\n";
  return false;
}

}  // namespace echod::app
