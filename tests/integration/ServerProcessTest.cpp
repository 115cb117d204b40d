// The echo-server binary as users run it: options, environment, file,
// signals, exit status.
#include <gtest/gtest.h>

#include <Poco/File.h>
#include <Poco/FileStream.h>
#include <Poco/TemporaryFile.h>

#include <csignal>
#include <sstream>
#include <string>

#include "ChildProcess.h"
#include "TestClient.h"

namespace echod {
namespace {

using namespace std::chrono_literals;
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

TEST(ServerProcess, SigintAlsoDrainsAndExitsZero) {
  ServerProcess server({});
  TestClient idle(server.port());
  idle.send("x\n");
  EXPECT_EQ(idle.readLine(), "echo : x\n");
  server.signal(SIGINT);
  EXPECT_EQ(idle.readAll(), "FIN\n");
  EXPECT_EQ(server.waitForExit(6s), 0);
}

TEST(ServerProcess, BadValueStopsStartupWithOneLineNamingIt) {
  ChildProcess server(ECHO_SERVER_PATH, {"--port=forty"});
  const auto status = server.waitForExit();
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(*status, 0);
  EXPECT_EQ(server.err(),
            "echo-server: invalid value 'forty' for echo.port (--port, ECHO_PORT): expected a whole number from 0 "
            "to 65535\n");
}

TEST(ServerProcess, BadEnvironmentValueIsNamedToo) {
  ChildProcess server(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0"}, {{"ECHO_FRAMING", "xml"}});
  EXPECT_NE(server.waitForExit(), 0);
  EXPECT_NE(server.err().find("'xml' for echo.framing (--framing, ECHO_FRAMING)"), std::string::npos) << server.err();
}

TEST(ServerProcess, UnknownOptionFails) {
  ChildProcess server(ECHO_SERVER_PATH, {"--no-such-option=1"});
  const auto status = server.waitForExit();
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(*status, 0);
  EXPECT_NE(server.err().find("no-such-option"), std::string::npos) << server.err();
}

TEST(ServerProcess, HelpListsEveryOptionAndExitsZero) {
  ChildProcess server(ECHO_SERVER_PATH, {"--help"});
  EXPECT_EQ(server.waitForExit(), 0);
  for (const char* option :
       {"--host", "--port", "--framing", "--prefix", "--max-line-length", "--idle-timeout", "--max-threads",
        "--max-queued", "--drain-timeout", "--config-file", "--log-level", "--max-connections-per-address", "--help"}) {
    EXPECT_NE(server.out().find(option), std::string::npos) << option;
  }
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

TEST(ServerProcess, MissingConfigFileIsAnError) {
  ChildProcess server(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0", "--config-file=/nonexistent/echo.properties"});
  EXPECT_NE(server.waitForExit(), 0);
  EXPECT_NE(server.err().find("/nonexistent/echo.properties"), std::string::npos) << server.err();
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
