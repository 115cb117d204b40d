// The admin endpoint over real HTTP: /healthz follows the drain, /metrics
// counts what clients really did, and promtool accepts its format.
#include <gtest/gtest.h>

#include <Poco/File.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Stopwatch.h>
#include <Poco/StreamCopier.h>

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <sstream>
#include <string>
#include <thread>

#include "ChildProcess.h"
#include "InProcessServer.h"
#include "TestClient.h"
#include "service/admin/AdminServer.h"

namespace echod {
namespace {

using test::InProcessServer;
using test::TestClient;
using test::testSettings;

struct HttpReply {
  int status = 0;
  std::string body;
};

HttpReply request(const AdminServer& admin, const std::string& method, const std::string& path) {
  Poco::Net::HTTPClientSession session("127.0.0.1", admin.address().port());
  session.setTimeout(Poco::Timespan(5, 0));
  Poco::Net::HTTPRequest request(method, path);
  request.setContentLength(0);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  HttpReply reply;
  reply.status = response.getStatus();
  Poco::StreamCopier::copyToString(in, reply.body);
  return reply;
}

HttpReply get(const AdminServer& admin, const std::string& path) {
  return request(admin, Poco::Net::HTTPRequest::HTTP_GET, path);
}

HttpReply post(const AdminServer& admin, const std::string& path) {
  return request(admin, Poco::Net::HTTPRequest::HTTP_POST, path);
}

/// The value of one sample line, e.g. `echod_messages_total 30`; -1 if absent.
/// Threads of this process now, from /proc.
double threadsNow() {
  double n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

double fileLimit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<double>(limit.rlim_cur);
}

double sample(const std::string& metrics, const std::string& series) {
  std::istringstream lines(metrics);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TEST(AdminServer, HealthzIsOkWhileAccepting) {
  InProcessServer server;
  AdminServer admin(server.server(), "127.0.0.1", 0);
  admin.start();
  const auto reply = get(admin, "/healthz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ok\n");
  EXPECT_EQ(get(admin, "/nothing").status, 404);
}

TEST(AdminServer, HealthzIs503WhileDraining) {
  auto settings = testSettings();
  settings.drainTimeout = Poco::Timespan(2, 0);
  InProcessServer server(settings);
  AdminServer admin(server.server(), "127.0.0.1", 0);
  admin.start();
  // A client that never reads keeps the drain open.
  TestClient stuck(server.port());
  stuck.sendUntilStuck();
  auto stopped = std::async(std::launch::async, [&] { return server.server().shutdown(); });
  HttpReply reply;
  Poco::Stopwatch clock;
  clock.start();
  while (reply.status != 503 && clock.elapsedSeconds() < 2) reply = get(admin, "/healthz");
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body, "draining\n");
  stopped.get();
}

TEST(AdminServer, ReadyzIs503OnceLeavingTheRotationWhileTheServerStillServes) {
  InProcessServer server;
  AdminServer admin(server.server(), "127.0.0.1", 0);
  admin.start();
  auto reply = get(admin, "/readyz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ready\n");
  server.server().leaveRotation();
  reply = get(admin, "/readyz");
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body, "leaving the rotation\n");
  EXPECT_EQ(get(admin, "/healthz").status, 200) << "/healthz keeps its meaning";
  EXPECT_EQ(test::roundTrip(server.port(), "still here"), "echo : still here\n");
}

TEST(AdminServer, TheReadinessSwitchFlipsOnlyReadyzWhenAdminControlIsOn) {
  auto settings = testSettings();
  settings.adminControl = true;
  InProcessServer server(settings);
  AdminServer admin(server.server(), "127.0.0.1", 0);
  admin.start();
  auto reply = post(admin, "/readyz/disable");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "readiness off: /readyz says 503, the echo service goes on\n");
  reply = get(admin, "/readyz");
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body, "switched off (POST /readyz/enable)\n");
  EXPECT_EQ(get(admin, "/healthz").status, 200);
  EXPECT_EQ(test::roundTrip(server.port(), "still served"), "echo : still served\n");
  EXPECT_EQ(get(admin, "/readyz/enable").status, 405) << "a GET changes nothing";
  EXPECT_EQ(get(admin, "/readyz").status, 503);
  reply = post(admin, "/readyz/enable");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(get(admin, "/readyz").status, 200);
  // Enabling cannot undo leaving the rotation.
  server.server().leaveRotation();
  EXPECT_EQ(post(admin, "/readyz/enable").status, 200);
  EXPECT_EQ(get(admin, "/readyz").status, 503);
}

TEST(AdminServer, TheReadinessSwitchIsForbiddenWhenAdminControlIsOff) {
  InProcessServer server;
  AdminServer admin(server.server(), "127.0.0.1", 0);
  admin.start();
  for (const char* path : {"/readyz/disable", "/readyz/enable"}) {
    const auto reply = post(admin, path);
    EXPECT_EQ(reply.status, 403) << path;
    EXPECT_NE(reply.body.find("--admin-control=on"), std::string::npos) << reply.body;
  }
  EXPECT_EQ(get(admin, "/readyz").status, 200);
}

TEST(AdminServer, MetricsCountWhatClientsDid) {
  auto settings = testSettings();
  settings.session.maxLineLength = 10;
  settings.maxConnectionsPerAddress = 3;
  InProcessServer server(settings);
  AdminServer admin(server.server(), "127.0.0.1", 0);
  admin.start();
  std::size_t sentBytes = 0;
  // Connections are released once the server has seen each client close (its
  // lingering close): with a per-address limit, wait for that between steps.
  const auto settle = [&] {
    Poco::Stopwatch clock;
    clock.start();
    while (server.server().gauges().openConnections != 0 && clock.elapsed() < test::kDeadline.totalMicroseconds()) {
      std::this_thread::yield();
    }
  };
  for (int c = 0; c < 3; ++c) {
    TestClient client(server.port());
    std::string lines;
    for (int i = 0; i < 10; ++i) lines += "line " + std::to_string(i) + "\n";
    lines += "exit\n";
    client.send(lines);
    sentBytes += lines.size();
    EXPECT_EQ(client.readAll().size(), 10 * std::string("echo : line 0\n").size() + 4);
  }
  settle();
  {
    TestClient tooLong(server.port());
    tooLong.send("far too long a line\n");
    sentBytes += 20;
    EXPECT_EQ(tooLong.readAll(), "ERR line too long\n");
  }
  settle();
  {
    TestClient a(server.port()), b(server.port()), c(server.port());
    a.send("x\n");
    b.send("x\n");
    c.send("x\n");
    sentBytes += 6;
    EXPECT_EQ(a.readLine(), "echo : x\n");
    EXPECT_EQ(b.readLine(), "echo : x\n");
    EXPECT_EQ(c.readLine(), "echo : x\n");
    TestClient fourth(server.port());
    EXPECT_EQ(fourth.readAll(), "ERR too many connections\n");
  }
  // Counters settle when the connections have ended.
  std::string metrics;
  Poco::Stopwatch clock;
  clock.start();
  do {
    metrics = get(admin, "/metrics").body;
  } while (sample(metrics, "echod_connections_open") != 0 && clock.elapsedSeconds() < 10);
  EXPECT_EQ(sample(metrics, "echod_connections_open"), 0);
  EXPECT_EQ(sample(metrics, "echod_connections_total"), 7);
  EXPECT_EQ(sample(metrics, "echod_messages_total"), 33);
  EXPECT_EQ(sample(metrics, "echod_received_bytes_total"), static_cast<double>(sentBytes));
  EXPECT_EQ(sample(metrics, "echod_errors_total{reason=\"line_too_long\"}"), 1);
  EXPECT_EQ(sample(metrics, "echod_connections_refused_total{reason=\"too_many_connections\"}"), 1);
  EXPECT_EQ(sample(metrics, "echod_connections_refused_total{reason=\"server_busy\"}"), 0);
  EXPECT_EQ(sample(metrics, "echod_worker_threads_max"), server.server().settings().maxThreads);
  EXPECT_GT(sample(metrics, "process_resident_memory_bytes"), 0);
  // This process is the server: its own /proc says the same.
  const double threadsBefore = threadsNow();
  metrics = get(admin, "/metrics").body;
  const double threadsAfter = threadsNow();
  EXPECT_GE(sample(metrics, "process_threads"), std::min(threadsBefore, threadsAfter));
  EXPECT_LE(sample(metrics, "process_threads"), std::max(threadsBefore, threadsAfter));
  EXPECT_EQ(sample(metrics, "process_max_fds"), fileLimit());
  EXPECT_GT(sample(metrics, "process_open_fds"), 3);
  EXPECT_GT(sample(metrics, "process_start_time_seconds"), 1.7e9);
  EXPECT_GT(sample(metrics, "process_virtual_memory_bytes"), sample(metrics, "process_resident_memory_bytes"));
  EXPECT_EQ(sample(metrics, "echod_queue_timeouts_total"), 0);
  EXPECT_EQ(sample(metrics, "echod_thread_start_failures_total"), 0);
  EXPECT_GE(sample(metrics, "echod_uptime_seconds"), 0);
}

TEST(AdminServer, MetricsPassPromtoolCheck) {
  std::string promtool = ECHO_SOURCE_DIR "/.tools/promtool";
  if (!Poco::File(promtool).exists()) promtool = "/usr/bin/promtool";
  if (!Poco::File(promtool).exists()) {
    if (std::getenv("CI") != nullptr && std::string(std::getenv("CI")) == "true") {
      FAIL() << "promtool is missing (scripts/install-deps.sh test fetches it)";
    }
    GTEST_SKIP() << "promtool not found; scripts/install-deps.sh test fetches it";
  }
  InProcessServer server;
  AdminServer admin(server.server(), "127.0.0.1", 0);
  admin.start();
  {
    TestClient client(server.port());
    client.send("hello\n");
    EXPECT_EQ(client.readLine(), "echo : hello\n");
  }
  test::ChildProcess check(promtool, {"check", "metrics"});
  check.writeStdin(get(admin, "/metrics").body);
  check.closeStdin();
  EXPECT_EQ(check.waitForExit(), 0) << check.out() << check.err();
}

}  // namespace
}  // namespace echod
