#pragma once

#include <Poco/Util/Application.h>
#include <Poco/Util/OptionSet.h>

#include <string>
#include <vector>

namespace echod {

/// The echo-client program: options, then one of the interactive or scripted
/// session, the health probe or the load generator.
class EchoClientApp : public Poco::Util::Application {
 protected:
  void initialize(Poco::Util::Application& self) override;
  void defineOptions(Poco::Util::OptionSet& options) override;
  int main(const std::vector<std::string>& args) override;

 private:
  void handleHelp(const std::string& name, const std::string& value);
  void handleSend(const std::string& name, const std::string& value);
  void handleFlag(const std::string& name, const std::string& value);

  bool _helpRequested = false;
  int _sendCount = 0;
};

}  // namespace echod
