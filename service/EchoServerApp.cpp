#include "service/EchoServerApp.h"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/Environment.h>
#include <Poco/ErrorHandler.h>
#include <Poco/File.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/IntValidator.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionCallback.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <iostream>

#include "service/AdminServer.h"
#include "service/EchoServer.h"
#include "service/JsonLogFormatter.h"
#include "service/PoolSizing.h"
#include "service/ServerErrorHandler.h"
#include "service/ServerSettings.h"

namespace echod {
namespace {

/// Between the properties file (PRIO_DEFAULT, 0) and the command line
/// (PRIO_APPLICATION, -100): environment variables beat the file.
constexpr int kEnvironmentPriority = -50;

void setUpLogging(const std::string& level, bool json) {
  Poco::AutoPtr<Poco::Formatter> format;
  if (json) {
    format = new JsonLogFormatter;
  } else {
    format = new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t");
  }
  Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(format, new Poco::ConsoleChannel));
  Poco::Logger::setChannel("", channel);  // every logger, existing or not
  Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
}

double seconds(const Poco::Timespan& t) { return static_cast<double>(t.totalMilliseconds()) / 1000.0; }

std::string describe(const ServerSettings& s) {
  return Poco::format(
      "framing %s, prefix '%s', max line %z B, idle timeout %.3f s (%.3f s under load), %d threads + %d queued "
      "(queue timeout %.3f s), drain %.3f s, per-address limit %d, stack %d B, %d threads started up front",
      std::string(s.session.framing == Framing::Raw ? "raw" : "line"), s.session.prefix, s.session.maxLineLength,
      seconds(s.idleTimeout), seconds(s.idleTimeoutUnderLoad), s.maxThreads, s.maxQueued, seconds(s.queueTimeout),
      seconds(s.drainTimeout), s.maxConnectionsPerAddress, s.threadStackSize, s.minThreads);
}

}  // namespace

void EchoServerApp::initialize(Poco::Util::Application& self) {
  config().add(environmentLayer(ServerSettings::specs()), kEnvironmentPriority, false);
  if (!_configFileGiven && Poco::Environment::has("ECHO_CONFIG_FILE")) {
    handleConfigFile("config-file", Poco::Environment::get("ECHO_CONFIG_FILE"));
  }
  ServerApplication::initialize(self);
}

void EchoServerApp::defineOptions(Poco::Util::OptionSet& options) {
  ServerApplication::defineOptions(options);
  options.addOption(Poco::Util::Option("help", "h", "print the options and exit")
                        .required(false)
                        .repeatable(false)
                        .callback(Poco::Util::OptionCallback<EchoServerApp>(this, &EchoServerApp::handleHelp)));
  options.addOption(Poco::Util::Option("config-file", "", "properties file to read (also ECHO_CONFIG_FILE)")
                        .required(false)
                        .repeatable(false)
                        .argument("PATH")
                        .callback(Poco::Util::OptionCallback<EchoServerApp>(this, &EchoServerApp::handleConfigFile)));
  addSettingOptions(options, ServerSettings::specs());
}

void EchoServerApp::handleHelp(const std::string&, const std::string&) {
  _helpRequested = true;
  Poco::Util::HelpFormatter help(options());
  help.setCommand(commandName());
  help.setUsage("[--name=value ...]");
  help.setHeader(
      "A threaded TCP echo server: each line gets 'echo : <line>', 'exit' gets FIN.\n"
      "Every setting can also come from a properties file (--config-file) or from an\n"
      "ECHO_* environment variable; precedence: defaults < file < environment < options.");
  help.setFooter("Protocol: docs/protocol.md. Settings: docs/configuration.md.");
  help.setUnixStyle(true);
  help.setWidth(110);
  help.format(std::cout);
  stopOptionsProcessing();
}

void EchoServerApp::handleConfigFile(const std::string&, const std::string& value) {
  if (!Poco::File(value).exists()) {
    throw Poco::FileNotFoundException("configuration file " + value);
  }
  // Always the properties format, whatever the file is called.
  config().add(new Poco::Util::PropertyFileConfiguration(value), PRIO_DEFAULT, false);
  _configFileGiven = true;
}

int EchoServerApp::main(const std::vector<std::string>& args) {
  if (_helpRequested) return EXIT_OK;
  if (!args.empty()) {
    std::cerr << "echo-server: unexpected argument '" << args.front() << "' (options take --name=value)\n";
    return EXIT_USAGE;
  }
  ServerSettings settings;
  try {
    settings = ServerSettings::fromConfig(config());
  } catch (const SettingsError& e) {
    std::cerr << "echo-server: " << e.what() << '\n';
    return EXIT_CONFIG;
  }
  setUpLogging(settings.logLevel, settings.jsonLogs);
  auto& log = Poco::Logger::get("echod.server");
  ServerErrorHandler errorHandler;
  Poco::ErrorHandler* previous = Poco::ErrorHandler::set(&errorHandler);

  // Every connection is a descriptor: take the file limit the administrator
  // granted (the hard limit) before the pool is sized from it.
  const std::int64_t files = raiseFileLimit();
  std::unique_ptr<EchoServer> server;
  try {
    server = std::make_unique<EchoServer>(settings);
  } catch (const SettingsError& e) {
    std::cerr << "echo-server: " << e.what() << '\n';
    Poco::ErrorHandler::set(previous);
    return EXIT_CONFIG;
  } catch (const Poco::Exception& e) {
    std::cerr << "echo-server: cannot listen on " << settings.host << ":" << settings.port << ": " << e.displayText()
              << '\n';
    Poco::ErrorHandler::set(previous);
    return EXIT_UNAVAILABLE;
  }
  std::unique_ptr<AdminServer> admin;
  if (settings.adminPort != 0) {
    try {
      admin = std::make_unique<AdminServer>(*server, settings.host, settings.adminPort);
    } catch (const Poco::Exception& e) {
      std::cerr << "echo-server: cannot listen on " << settings.host << ":" << settings.adminPort
                << " for the admin endpoint (--admin-port=0 turns it off): " << e.displayText() << '\n';
      Poco::ErrorHandler::set(previous);
      return EXIT_UNAVAILABLE;
    }
  }
  server->start();
  const PoolSize& pool = server->poolSize();
  log.notice("worker pool: %d threads, decided by %s (file limit %Ld%s%s)", server->settings().maxThreads,
             pool.decidedBy, static_cast<Poco::Int64>(files), std::string(pool.detail.empty() ? "" : "; "),
             pool.detail);
  log.notice("settings: %s", describe(server->settings()));
  log.notice("listening on %s", server->address().toString());
  if (admin) {
    admin->start();
    log.notice("admin endpoint (/healthz, /metrics) on http://%s", admin->address().toString());
  }

  waitForTerminationRequest();

  log.notice("termination requested");
  const bool clean = server->shutdown();  // /healthz says 503 meanwhile
  admin.reset();
  server.reset();
  Poco::ErrorHandler::set(previous);
  log.notice("exiting (%s)", std::string(clean ? "all connections finished" : "some connections aborted"));
  return EXIT_OK;
}

}  // namespace echod
