#include "client/EchoClientApp.h"

#include <Poco/Util/Option.h>
#include <Poco/Util/OptionCallback.h>

#include <unistd.h>

#include <iostream>
#include <optional>

#include "client/ClientSettings.h"
#include "client/HealthProbe.h"
#include "client/IdleTimeoutProbe.h"
#include "client/LoadGenerator.h"
#include "client/ServerConnector.h"
#include "client/TerminalClient.h"
#include "client/UdpEchoClient.h"
#include "client/WhoProbe.h"
#include "settings/AppSupport.h"

namespace echod {
namespace {
constexpr int kExitCannotConnect = 2;

/// --udp: the same modes over datagrams (UdpEchoClient).
int runUdp(const ClientSettings& settings) {
  UdpEchoClient udp(settings);
  switch (settings.mode) {
    case ClientMode::Check: {
      std::string report;
      const bool ok = udp.check(report);
      std::cout << report << std::endl;
      return ok ? 0 : 1;
    }
    case ClientMode::Who:
      return udp.who();
    case ClientMode::Bench: {
      const BenchResult result = udp.bench();
      std::cout << (settings.json ? result.json() : result.text()) << std::flush;
      return result.errors == 0 && result.messages > 0 ? 0 : 1;
    }
    default:
      return udp.send();
  }
}

}  // namespace

void EchoClientApp::initialize(Poco::Util::Application& self) {
  app::addEnvironment(config(), ClientSettings::specs());
  Application::initialize(self);
}

void EchoClientApp::defineOptions(Poco::Util::OptionSet& options) {
  using Callback = Poco::Util::OptionCallback<EchoClientApp>;
  Application::defineOptions(options);
  options.addOption(Poco::Util::Option("help", "h", "print the options and exit")
                        .callback(Callback(this, &EchoClientApp::handleHelp)));
  options.addOption(Poco::Util::Option("send", "", "send MSG as a line (repeatable), then exit; print the replies")
                        .repeatable(true)
                        .argument("MSG")
                        .callback(Callback(this, &EchoClientApp::handleSend)));
  options.addOption(Poco::Util::Option("check", "", "health probe: exact echo of a random token, then FIN; exit 0 or 1")
                        .callback(Callback(this, &EchoClientApp::handleFlag)));
  options.addOption(Poco::Util::Option("bench", "", "load generator: --connections threads of round trips")
                        .callback(Callback(this, &EchoClientApp::handleFlag)));
  options.addOption(
      Poco::Util::Option("reconnect", "", "--bench: open a connection that ends again; count how they broke")
          .callback(Callback(this, &EchoClientApp::handleFlag)));
  options.addOption(Poco::Util::Option("who", "", "ask the server's who command once and print its JSON")
                        .callback(Callback(this, &EchoClientApp::handleFlag)));
  options.addOption(
      Poco::Util::Option("json", "", "--bench, --spread, --find-idle-timeout: print the result as one JSON object")
          .callback(Callback(this, &EchoClientApp::handleFlag)));
  options.addOption(Poco::Util::Option("udp", "", "--send, --check, --who, --bench over UDP: one datagram per message")
                        .callback(Callback(this, &EchoClientApp::handleFlag)));
  options.addOption(Poco::Util::Option("tls", "", "connect with TLS (to port 4568 unless --port says otherwise)")
                        .callback(Callback(this, &EchoClientApp::handleFlag)));
  options.addOption(Poco::Util::Option("tls-insecure", "", "--tls: do not check the server's certificate")
                        .callback(Callback(this, &EchoClientApp::handleFlag)));
  addSettingOptions(options, ClientSettings::specs());
}

void EchoClientApp::handleHelp(const std::string&, const std::string&) {
  _helpRequested = true;
  app::printHelp(options(), commandName(),
                 "Talks to echo-server. Interactive by default: type lines, replies print as they\n"
                 "arrive; end of input (Ctrl-D) half-closes and waits for the last replies.\n"
                 "Exit status: 0 after FIN or a clean close, 1 after ERR or a failure, 2 when it\n"
                 "cannot connect, 64 for a bad option or value.",
                 "ECHO_HOST, ECHO_PORT, ECHO_FRAMING, ECHO_PREFIX and ECHO_TIMEOUT set the same as the options;\n"
                 "the first four are the server's names too, so both sides agree by default.");
  stopOptionsProcessing();
}

void EchoClientApp::handleSend(const std::string&, const std::string& value) {
  config().setString("client.send." + std::to_string(_sendCount++), value);
  config().setInt("client.send.count", _sendCount);
}

void EchoClientApp::handleFlag(const std::string& name, const std::string&) {
  config().setString("client." + name, "true");
}

int EchoClientApp::main(const std::vector<std::string>& args) {
  if (_helpRequested) return EXIT_OK;
  if (!app::noArguments(args, "echo-client")) return EXIT_USAGE;
  ClientSettings settings;
  try {
    settings = ClientSettings::fromConfig(config());
  } catch (const SettingsError& e) {
    std::cerr << "echo-client: " << e.what() << '\n';
    return EXIT_USAGE;
  }
  for (const auto& warning : settings.warnings) std::cerr << "echo-client: " << warning << '\n';

  if (settings.udp) return runUdp(settings);

  std::optional<ServerConnector> connector;
  try {
    connector.emplace(settings);
  } catch (const SettingsError& e) {
    std::cerr << "echo-client: " << e.what() << '\n';
    return EXIT_USAGE;
  }
  if (settings.mode == ClientMode::Check) {
    std::string report;
    const bool ok = HealthProbe(settings, *connector).run(report);
    std::cout << report << std::endl;
    return ok ? EXIT_OK : 1;
  }
  if (settings.mode == ClientMode::Who) return WhoProbe(settings, *connector).who();
  if (settings.mode == ClientMode::Spread) {
    const auto spread = WhoProbe(settings, *connector).spread();
    std::cout << (settings.json ? spread.json() : spread.text()) << std::flush;
    return spread.ok() ? EXIT_OK : 1;
  }
  if (settings.mode == ClientMode::FindIdleTimeout) {
    const IdleTimeoutProbe::Result found = IdleTimeoutProbe(settings, *connector).run();
    if (found.cannotStart) {
      std::cerr << "echo-client: " << connector->target() << ": " << found.whyNot << '\n';
      return found.cannotConnect ? kExitCannotConnect : 1;
    }
    std::cout << (settings.json ? found.json() : found.text()) << std::flush;
    return EXIT_OK;
  }
  if (settings.mode == ClientMode::Bench) {
    const BenchResult result = LoadGenerator(settings, *connector).run();
    std::cout << (settings.json ? result.json() : result.text()) << std::flush;
    return result.errors == 0 && result.messages > 0 ? EXIT_OK : 1;
  }

  Poco::Net::StreamSocket socket;
  try {
    socket = connector->connect();
  } catch (const Poco::Exception& e) {
    std::cerr << "echo-client: cannot connect to " << connector->target() << ": " << e.displayText() << '\n';
    return kExitCannotConnect;
  }
  std::cerr << "echo-client: connected to " << connector->target() << '\n';
  TerminalClient terminal(socket, settings);
  const SessionEnd end = settings.mode == ClientMode::Scripted ? terminal.runWithMessages(settings.messages)
                                                               : terminal.runWithInput(STDIN_FILENO);
  return exitStatus(end);
}

}  // namespace echod
