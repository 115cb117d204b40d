// The echo-server binary as users run it: options, environment, file,
// signals, exit status.
#include <gtest/gtest.h>

#include <Poco/File.h>
#include <Poco/FileStream.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Stopwatch.h>
#include <Poco/TemporaryFile.h>

#include <csignal>
#include <sstream>
#include <string>

#include "ChildProcess.h"
#include "TestClient.h"

#include "service/server/ServerSettings.h"

namespace echod {
namespace {

using namespace std::chrono_literals;
constexpr int kExitUsage = 64;        ///< EX_USAGE: a bad option or argument
constexpr int kExitConfig = 78;       ///< EX_CONFIG: a bad setting or configuration file
constexpr int kExitUnavailable = 69;  ///< EX_UNAVAILABLE: a port that cannot be bound
using test::ChildProcess;
using test::roundTrip;
using test::ServerProcess;
using test::TestClient;

TEST(ServerProcess, PortZeroPicksAFreePortAndLogsIt) {
  ServerProcess server({});
  ASSERT_NE(server.port(), 0);
  EXPECT_EQ(roundTrip(server.port(), "hi"), "echo : hi\n");
}

TEST(ServerProcess, SigtermSendsFinToOpenConnectionsAndExitsZero) {
  ServerProcess server({});
  TestClient idle(server.port());
  idle.send("before\n");
  EXPECT_EQ(idle.readLine(), "echo : before\n");
  server.signal(SIGTERM);
  EXPECT_EQ(idle.readAll(), "FIN\n");
  const auto status = server.waitForExit(6s);
  ASSERT_TRUE(status.has_value()) << "still running after the drain time";
  EXPECT_EQ(*status, 0);
}

TEST(ServerProcess, AbortedConnectionsAtShutdownStillExitZeroAndSaySo) {
  ServerProcess server({"--drain-timeout=0.5"});
  // A connection that cannot finish in time: its worker is stuck writing
  // replies to a client that does not read.
  TestClient stuck(server.port());
  stuck.sendUntilStuck();
  server.signal(SIGTERM);
  // The bound: drain (0.5 s) + 1 s for the ERR lines + the join.
  EXPECT_EQ(server.waitForExit(5s), 0);
  EXPECT_NE(server.err().find("exiting (some connections aborted)"), std::string::npos) << server.err();
}

TEST(ServerProcess, SigintAlsoDrainsAndExitsZero) {
  ServerProcess server({});
  TestClient idle(server.port());
  idle.send("x\n");
  EXPECT_EQ(idle.readLine(), "echo : x\n");
  server.signal(SIGINT);
  EXPECT_EQ(idle.readAll(), "FIN\n");
  EXPECT_EQ(server.waitForExit(6s), 0);
}

/// The admin port an echo-server child logged.
std::uint16_t adminPortOf(ChildProcess& server) {
  const auto line = server.waitForStderrLine("admin endpoint (/healthz, /readyz, /metrics) on http://");
  if (!line) return 0;
  return static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
}

int statusOf(std::uint16_t port, const std::string& path) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(5, 0));
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  session.receiveResponse(response);
  return response.getStatus();
}

TEST(ServerProcess, AfterSigtermTheDelayKeepsServingWithReadyz503AndASecondSignalDrainsAtOnce) {
  const std::uint16_t adminPort = test::freeFixedPort();
  ServerProcess server({"--admin-port=" + std::to_string(adminPort), "--shutdown-delay=60"});
  const std::uint16_t admin = adminPortOf(server);
  ASSERT_NE(admin, 0) << server.err();
  EXPECT_EQ(statusOf(admin, "/readyz"), 200);
  TestClient open(server.port());
  server.signal(SIGTERM);
  ASSERT_TRUE(server.waitForStderr("leaving the rotation")) << server.err();
  EXPECT_EQ(statusOf(admin, "/readyz"), 503);
  EXPECT_EQ(statusOf(admin, "/healthz"), 200);
  EXPECT_EQ(roundTrip(server.port(), "new"), "echo : new\n") << "new connections are still served";
  open.send("old\n");
  EXPECT_EQ(open.readLine(), "echo : old\n");
  server.signal(SIGTERM);  // the second: no 60 s wait
  EXPECT_EQ(open.readAll(), "FIN\n");
  EXPECT_EQ(server.waitForExit(6s), 0);
  EXPECT_NE(server.err().find("second signal"), std::string::npos) << server.err();
}

TEST(ServerProcess, TheShutdownDelayEndsByItselfThenTheServerDrains) {
  ServerProcess server({"--shutdown-delay=0.5"});
  TestClient open(server.port());
  Poco::Stopwatch sinceSignal;  // started before the signal: "never early" holds from here
  sinceSignal.start();
  server.signal(SIGTERM);
  EXPECT_EQ(open.readAll(), "FIN\n");
  EXPECT_GE(sinceSignal.elapsed() / 1000, 500) << "the drain began before the delay was over";
  EXPECT_EQ(server.waitForExit(6s), 0);
}

TEST(ServerProcess, AKubernetesServiceLinkInAPortVariableIsNamed) {
  ChildProcess server(ECHO_SERVER_PATH, {"--admin-port=0"}, {{"ECHO_PORT", "tcp://10.96.0.12:4567"}});
  EXPECT_EQ(server.waitForExit(), kExitConfig);
  EXPECT_NE(server.err().find("Kubernetes service link"), std::string::npos) << server.err();
  EXPECT_NE(server.err().find("enableServiceLinks: false"), std::string::npos) << server.err();
}

TEST(ServerProcess, APortInUseIsNamedByItsSettingAndExits69) {
  // Held by this test: the PROXY listener cannot bind it, UDP's own port neither.
  Poco::Net::ServerSocket taken;
  taken.bind(Poco::Net::SocketAddress("127.0.0.1", 0), false, false);
  taken.listen();
  const std::string port = std::to_string(taken.address().port());
  ChildProcess proxy(ECHO_SERVER_PATH, {"--host=127.0.0.1", "--port=0", "--admin-port=0", "--proxy-port=" + port});
  EXPECT_EQ(proxy.waitForExit(), kExitUnavailable);
  EXPECT_NE(proxy.err().find("echo-server: cannot listen on 127.0.0.1:" + port + " (echo.proxyPort): "),
            std::string::npos)
      << proxy.err();
  Poco::Net::DatagramSocket udp(Poco::Net::SocketAddress("127.0.0.1", 0));
  const std::string udpPort = std::to_string(udp.address().port());
  ChildProcess udpServer(ECHO_SERVER_PATH, {"--host=127.0.0.1", "--port=0", "--admin-port=0", "--udp-port=" + udpPort});
  EXPECT_EQ(udpServer.waitForExit(), kExitUnavailable);
  EXPECT_NE(udpServer.err().find("echo-server: cannot listen on 127.0.0.1:" + udpPort + " (echo.udpPort): "),
            std::string::npos)
      << udpServer.err();
}

TEST(ServerProcess, BadValueStopsStartupWithOneLineNamingIt) {
  ChildProcess server(ECHO_SERVER_PATH, {"--port=forty"});
  EXPECT_EQ(server.waitForExit(), kExitConfig);
  EXPECT_EQ(server.err(),
            "echo-server: invalid value 'forty' for echo.port (--port, ECHO_PORT): expected a whole number from 0 "
            "to 65535\n");
}

TEST(ServerProcess, BadEnvironmentValueIsNamedToo) {
  ChildProcess server(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0"}, {{"ECHO_FRAMING", "xml"}});
  EXPECT_EQ(server.waitForExit(), kExitConfig);
  EXPECT_NE(server.err().find("'xml' for echo.framing (--framing, ECHO_FRAMING)"), std::string::npos) << server.err();
}

TEST(ServerProcess, UnknownOptionFails) {
  ChildProcess server(ECHO_SERVER_PATH, {"--no-such-option=1"});
  EXPECT_EQ(server.waitForExit(), kExitConfig);  // POCO's ServerApplication: option errors are EX_CONFIG
  EXPECT_NE(server.err().find("no-such-option"), std::string::npos) << server.err();
}

TEST(ServerProcess, BareArgumentIsAUsageError) {
  ChildProcess server(ECHO_SERVER_PATH, {"--port=0", "4567"});
  EXPECT_EQ(server.waitForExit(), kExitUsage);
  EXPECT_EQ(server.err(), "echo-server: unexpected argument '4567' (options take --name=value)\n");
}

TEST(ServerProcess, HelpListsEveryOptionWithItsDefaultAndExitsZero) {
  ChildProcess server(ECHO_SERVER_PATH, {"--help"});
  EXPECT_EQ(server.waitForExit(), 0);
  // The help wraps its lines: compare with the wrapping undone.
  std::string help;
  for (const char c : server.out()) {
    const bool blank = c == ' ' || c == '\n';
    if (!blank || help.empty() || help.back() != ' ') help.push_back(blank ? ' ' : c);
  }
  for (const auto& spec : ServerSettings::specs()) {
    const std::string option = "--" + std::string(spec.option);
    EXPECT_NE(help.find(option), std::string::npos) << option;
    // The default as the struct has it, e.g. "(default 300)" for the idle timeout.
    EXPECT_NE(help.find("(default " + spec.defaultValue + ")"), std::string::npos) << option << " in " << help;
  }
  EXPECT_NE(help.find("(default 300)"), std::string::npos);
  EXPECT_NE(help.find("(default 'echo : ')"), std::string::npos);
  EXPECT_NE(help.find("--config-file"), std::string::npos);
}

TEST(ServerProcess, SettingsComeFromFileThenEnvironmentThenCommandLine) {
  Poco::TemporaryFile file;
  {
    Poco::FileOutputStream out(file.path());
    out << "echo.prefix = file>\n";
  }
  ServerProcess fileOnly({"--config-file=" + file.path()});
  EXPECT_EQ(roundTrip(fileOnly.port(), "a"), "file>a\n");

  ServerProcess fileAndEnv({"--config-file=" + file.path()}, {{"ECHO_PREFIX", "env>"}});
  EXPECT_EQ(roundTrip(fileAndEnv.port(), "a"), "env>a\n");

  ServerProcess all({"--config-file=" + file.path(), "--prefix=cli>"}, {{"ECHO_PREFIX", "env>"}});
  EXPECT_EQ(roundTrip(all.port(), "a"), "cli>a\n");

  ServerProcess fromEnvFile({}, {{"ECHO_CONFIG_FILE", file.path()}});
  EXPECT_EQ(roundTrip(fromEnvFile.port(), "a"), "file>a\n");
}

TEST(ServerProcess, ShippedConfigFileIsValidAndKeepsTheDefaults) {
  ServerProcess server({"--config-file=" ECHO_SOURCE_DIR "/config/echo-server.properties"});
  ASSERT_NE(server.port(), 0);
  EXPECT_EQ(roundTrip(server.port(), "shipped"), "echo : shipped\n");
}

TEST(ServerProcess, MissingConfigFileIsOneLineNamingTheSetting) {
  ChildProcess byOption(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0", "--config-file=/nonexistent/echo.properties"});
  EXPECT_EQ(byOption.waitForExit(), kExitConfig);
  EXPECT_EQ(byOption.err(),
            "echo-server: cannot read the configuration file '/nonexistent/echo.properties' (--config-file, "
            "ECHO_CONFIG_FILE): no such file\n");
  ChildProcess byEnvironment(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0"},
                             {{"ECHO_CONFIG_FILE", "/nonexistent/env.properties"}});
  EXPECT_EQ(byEnvironment.waitForExit(), kExitConfig);
  EXPECT_EQ(byEnvironment.err(),
            "echo-server: cannot read the configuration file '/nonexistent/env.properties' (ECHO_CONFIG_FILE): no "
            "such file\n");
}

TEST(ServerProcess, QuotedPrefixInTheFileKeepsItsSpaces) {
  Poco::TemporaryFile file;
  {
    Poco::FileOutputStream out(file.path());
    out << "echo.prefix = \"from-file: \"\n";
  }
  ServerProcess server({"--config-file=" + file.path()});
  EXPECT_EQ(roundTrip(server.port(), "a"), "from-file: a\n");
}

TEST(ServerProcess, UnknownKeysAndVariablesAreWarnedAboutWithTheClosestName) {
  Poco::TemporaryFile file;
  {
    Poco::FileOutputStream out(file.path());
    out << "echo.maxThread = 64\necho.port = 0\n";
  }
  ServerProcess server({"--config-file=" + file.path()}, {{"ECHO_IDLE_TIMOUT", "60"}, {"ECHO_TIMEOUT", "3"}});
  EXPECT_NE(server.err().find("unknown setting echo.maxThread in " + file.path() +
                              " is ignored; did you mean echo.maxThreads?"),
            std::string::npos)
      << server.err();
  EXPECT_NE(server.err().find("unknown environment variable ECHO_IDLE_TIMOUT is ignored; did you mean "
                              "ECHO_IDLE_TIMEOUT?"),
            std::string::npos)
      << server.err();
  EXPECT_EQ(server.err().find("ECHO_TIMEOUT "), std::string::npos) << "the client's own variable is not unknown";
  EXPECT_EQ(server.err().find("echo.port in"), std::string::npos);
  EXPECT_EQ(roundTrip(server.port(), "still serves"), "echo : still serves\n");
}

TEST(ServerProcess, LogsConnectionsButNotLines) {
  ServerProcess server({});
  {
    TestClient client(server.port());
    client.send("secret line\nexit\n");
    EXPECT_EQ(client.readAll(), "echo : secret line\nFIN\n");
  }
  EXPECT_TRUE(server.waitForStderr("sent FIN"));
  EXPECT_NE(server.err().find("opened"), std::string::npos);
  EXPECT_EQ(server.err().find("secret line"), std::string::npos);
}

}  // namespace
}  // namespace echod

#include <Poco/JSON/Parser.h>

namespace echod {
namespace {

TEST(ServerProcess, JsonLogFormatWritesOneObjectPerLine) {
  test::ServerProcess server({"--log-format=json"});
  {
    test::TestClient client(server.port());
    client.send("exit\n");
    EXPECT_EQ(client.readAll(), "FIN\n");
  }
  EXPECT_TRUE(server.waitForStderr("sent FIN"));
  std::istringstream lines(server.err());
  std::string line;
  int objects = 0;
  while (std::getline(lines, line)) {
    Poco::JSON::Parser parser;
    const auto object = parser.parse(line).extract<Poco::JSON::Object::Ptr>();
    EXPECT_TRUE(object->has("time") && object->has("level") && object->has("logger") && object->has("message")) << line;
    ++objects;
  }
  EXPECT_GE(objects, 4);
}

}  // namespace
}  // namespace echod
