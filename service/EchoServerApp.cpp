#include "service/EchoServerApp.h"

#include <Poco/AutoPtr.h>
#include <Poco/Environment.h>
#include <Poco/ErrorHandler.h>
#include <Poco/File.h>
#include <Poco/Logger.h>
#include <Poco/Stopwatch.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionCallback.h>

#include <signal.h>

#include <cerrno>
#include <iostream>

#include "service/admin/AdminServer.h"
#include "service/logging/LogSetup.h"
#include "service/logging/ServerErrorHandler.h"
#include "service/server/EchoServer.h"
#include "service/server/PoolSizing.h"
#include "service/server/ServerSettings.h"
#include "settings/AppSupport.h"

namespace echod {
namespace {

/// Known ECHO_* names that are not server settings: the file's own variable,
/// and echo-client's timeout (the image's health check runs the client inside
/// the server's container, with the server's environment).
const std::vector<std::string_view> kClientEnvironment{"ECHO_TIMEOUT", "ECHO_CONFIG_FILE"};

/// Where POCO reports what its threads caught, for as long as the servers run.
class ErrorHandlerScope {
 public:
  ErrorHandlerScope() : _previous(Poco::ErrorHandler::set(&_handler)) {}
  ~ErrorHandlerScope() { Poco::ErrorHandler::set(_previous); }
  ErrorHandlerScope(const ErrorHandlerScope&) = delete;
  ErrorHandlerScope& operator=(const ErrorHandlerScope&) = delete;

 private:
  ServerErrorHandler _handler;
  Poco::ErrorHandler* _previous;
};

/// After the first SIGTERM or SIGINT: /readyz says 503 at once; the server goes
/// on serving for echo.shutdownDelay, so that health-checking load balancers
/// take it out before the drain refuses anyone. A second signal ends the
/// delay. waitForTerminationRequest() left those signals blocked: they wait
/// for sigtimedwait() here, as the first one waited for its sigwait().
void leaveTheRotation(EchoServer& echo, Poco::Logger& log) {
  echo.leaveRotation();
  const std::int64_t delayMs = echo.settings().shutdownDelay.totalMilliseconds();
  if (delayMs <= 0) return;
  log.notice(
      "leaving the rotation: /readyz says 503; serving %.3f s more before the drain (a second signal drains now)",
      static_cast<double>(delayMs) / 1000);
  sigset_t signals;
  sigemptyset(&signals);
  for (const int sig : {SIGINT, SIGQUIT, SIGTERM}) sigaddset(&signals, sig);
  timespec left{static_cast<time_t>(delayMs / 1000), static_cast<long>(delayMs % 1000) * 1000000L};
  Poco::Stopwatch waited;
  waited.start();
  for (;;) {
    const int sig = sigtimedwait(&signals, nullptr, &left);
    if (sig > 0) {
      log.notice("second signal (%d): draining now", sig);
      return;
    }
    if (errno != EINTR) return;  // EAGAIN: the delay is over
    const std::int64_t remainingMs = delayMs - waited.elapsed() / 1000;
    if (remainingMs <= 0) return;
    left = timespec{static_cast<time_t>(remainingMs / 1000), static_cast<long>(remainingMs % 1000) * 1000000L};
  }
}

/// The echo server and its admin endpoint, built or not at all.
struct Servers {
  std::unique_ptr<EchoServer> echo;
  std::unique_ptr<AdminServer> admin;
};

/// Builds the servers (binding their ports); on failure prints one line and returns the exit status.
int build(const ServerSettings& settings, Servers& servers) {
  try {
    servers.echo = std::make_unique<EchoServer>(settings);
  } catch (const SettingsError& e) {
    std::cerr << "echo-server: " << e.what() << '\n';
    return Poco::Util::Application::EXIT_CONFIG;
  } catch (const ListenError& e) {  // names the listener's setting and port
    std::cerr << "echo-server: " << e.what() << '\n';
    return Poco::Util::Application::EXIT_UNAVAILABLE;
  } catch (const Poco::Exception& e) {
    std::cerr << "echo-server: cannot start: " << e.displayText() << '\n';
    return Poco::Util::Application::EXIT_UNAVAILABLE;
  }
  if (settings.adminPort == 0) return Poco::Util::Application::EXIT_OK;
  try {
    servers.admin = std::make_unique<AdminServer>(*servers.echo, settings.host, settings.adminPort);
  } catch (const Poco::Exception& e) {
    std::cerr << "echo-server: cannot listen on " << settings.host << ":" << settings.adminPort
              << " for the admin endpoint (--admin-port=0 turns it off): " << e.displayText() << '\n';
    return Poco::Util::Application::EXIT_UNAVAILABLE;
  }
  return Poco::Util::Application::EXIT_OK;
}

void start(Servers& servers, std::int64_t fileLimit, Poco::Logger& log) {
  EchoServer& echo = *servers.echo;
  const ServerSettings& settings = echo.settings();
  echo.start();
  const PoolSize& pool = echo.poolSize();
  log.notice("worker pool: %d threads, decided by %s (file limit %Ld%s%s)", settings.maxThreads, pool.decidedBy,
             static_cast<Poco::Int64>(fileLimit), std::string(pool.detail.empty() ? "" : "; "), pool.detail);
  log.notice("settings: %s", settings.describe());
  for (const std::string& line : echo.describeListeners()) log.notice(line);
  if (const std::string who = settings.describeWho(); !who.empty()) log.notice(who);
  log.notice("replica: %s", settings.describeRollout());
  if (settings.udpEnabled()) log.notice(settings.startLine(echo.udpAddress().toString()));
  if (settings.faults.any()) log.notice("faults: %s", settings.faults.describe());
  if (servers.admin) {
    servers.admin->start();
    log.notice("admin endpoint (/healthz, /readyz, /metrics) on http://%s%s", servers.admin->address().toString(),
               std::string(settings.adminControl ? "; readiness switch on (POST /readyz/disable, /enable)" : ""));
    if (settings.console) log.notice("web console on http://%s/", servers.admin->address().toString());
  }
}

}  // namespace

void EchoServerApp::initialize(Poco::Util::Application& self) {
  app::addEnvironment(config(), ServerSettings::specs());
  if (_configFile.isNull() && _configError.empty() && Poco::Environment::has("ECHO_CONFIG_FILE")) {
    loadConfigFile(Poco::Environment::get("ECHO_CONFIG_FILE"), "ECHO_CONFIG_FILE");
  }
  ServerApplication::initialize(self);
}

void EchoServerApp::defineOptions(Poco::Util::OptionSet& options) {
  using Callback = Poco::Util::OptionCallback<EchoServerApp>;
  ServerApplication::defineOptions(options);
  options.addOption(Poco::Util::Option("help", "h", "print the options and exit")
                        .required(false)
                        .repeatable(false)
                        .callback(Callback(this, &EchoServerApp::handleHelp)));
  options.addOption(Poco::Util::Option("config-file", "", "properties file to read (also ECHO_CONFIG_FILE)")
                        .required(false)
                        .repeatable(false)
                        .argument("PATH")
                        .callback(Callback(this, &EchoServerApp::handleConfigFile)));
  addSettingOptions(options, ServerSettings::specs());
}

void EchoServerApp::handleHelp(const std::string&, const std::string&) {
  _helpRequested = true;
  app::printHelp(options(), commandName(),
                 "A threaded TCP echo server: each line gets 'echo : <line>', 'exit' gets FIN.\n"
                 "Every setting can also come from a properties file (--config-file) or from an\n"
                 "ECHO_* environment variable; precedence: defaults < file < environment < options.\n"
                 "Exit status: 0 after a requested shutdown, 64 for a bare argument, 69 when a port\n"
                 "cannot be bound, 78 for an unknown option, a bad setting or an unreadable file.",
                 "Protocol: docs/protocol.md. Settings: docs/configuration.md.");
  stopOptionsProcessing();
}

void EchoServerApp::handleConfigFile(const std::string&, const std::string& value) {
  loadConfigFile(value, "--config-file, ECHO_CONFIG_FILE");
}

void EchoServerApp::loadConfigFile(const std::string& path, const std::string& givenBy) {
  // Recorded, not thrown: main() reports it in the one-line form of every bad setting.
  const std::string what = "cannot read the configuration file '" + path + "' (" + givenBy + "): ";
  try {
    if (!Poco::File(path).exists()) {
      _configError = what + "no such file";
      return;
    }
    // Always the properties format, whatever the file is called.
    _configFile = new Poco::Util::PropertyFileConfiguration(path);
    _configPath = path;
    config().add(_configFile, PRIO_DEFAULT, false);
  } catch (const Poco::Exception& e) {
    _configError = what + e.displayText();
  }
}

int EchoServerApp::main(const std::vector<std::string>& args) {
  if (_helpRequested) return EXIT_OK;
  if (!app::noArguments(args, "echo-server")) return EXIT_USAGE;
  if (!_configError.empty()) {
    std::cerr << "echo-server: " << _configError << '\n';
    return EXIT_CONFIG;
  }
  ServerSettings settings;
  try {
    settings = ServerSettings::fromConfig(config());
  } catch (const SettingsError& e) {
    std::cerr << "echo-server: " << e.what() << '\n';
    return EXIT_CONFIG;
  }
  const LogFlush logFlush(setUpLogging(settings.logLevel, settings.jsonLogs));
  auto& log = Poco::Logger::get("echod.server");
  warnAboutUnknownSettings(log);
  const ErrorHandlerScope errors;
  // Every connection is a descriptor: take the file limit the administrator
  // granted (the hard limit) before the pool is sized from it.
  const std::int64_t fileLimit = raiseFileLimit();
  Servers servers;
  if (const int status = build(settings, servers); status != EXIT_OK) return status;
  start(servers, fileLimit, log);

  waitForTerminationRequest();

  log.notice("termination requested");
  leaveTheRotation(*servers.echo, log);
  const bool clean = servers.echo->shutdown();  // /healthz says 503 meanwhile
  servers.admin.reset();
  servers.echo.reset();
  // A requested shutdown that ran within its bounds is a success, even if the
  // drain had to abort connections: a supervisor must not see a crash.
  log.notice("exiting (%s)", std::string(clean ? "all connections finished" : "some connections aborted"));
  return EXIT_OK;
}

void EchoServerApp::warnAboutUnknownSettings(Poco::Logger& log) const {
  // Warned, not refused: a stale key in a shared file or environment should
  // not stop the service, but a typo must not pass unnoticed either.
  std::vector<std::string> warnings = unknownEnvironment(ServerSettings::specs(), kClientEnvironment);
  if (!_configFile.isNull()) {
    for (auto& w : unknownKeys(*_configFile, _configPath, ServerSettings::specs())) warnings.push_back(std::move(w));
  }
  for (const auto& warning : warnings) log.warning(warning);
}

}  // namespace echod
