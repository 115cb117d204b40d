// Admission and robustness over real sockets: a full server refuses clearly,
// one address cannot take every thread, a slow or vanished peer costs only
// its own connection.
#include <gtest/gtest.h>

#include <Poco/Stopwatch.h>

#include <sched.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "InProcessServer.h"
#include "TestClient.h"

namespace echod {
namespace {

using test::InProcessServer;
using test::TestClient;
using test::testSettings;

/// A connection that has been given a worker thread (it answered a line).
std::unique_ptr<TestClient> servedClient(std::uint16_t port, const std::string& name) {
  auto client = std::make_unique<TestClient>(port);
  client->send(name + "\n");
  EXPECT_EQ(client->readLine(), "echo : " + name + "\n");
  return client;
}

/// Threads of this process whose scheduling policy is SCHED_BATCH, from /proc.
int batchThreads() {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream stat(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields after the command name in parentheses start at field 3; policy is field 41.
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 41 && fields >> field; ++i) {
    }
    if (field == std::to_string(SCHED_BATCH)) ++count;
  }
  return count;
}

TEST(ServerLimits, WorkerThreadsRunUnderTheConfiguredScheduling) {
  for (const auto scheduling : {WorkerScheduling::Batch, WorkerScheduling::Normal}) {
    auto settings = testSettings();
    settings.workerScheduling = scheduling;
    InProcessServer server(settings);
    const int before = batchThreads();
    auto client = servedClient(server.port(), "scheduled");  // holds its worker thread
    EXPECT_EQ(batchThreads() - before, scheduling == WorkerScheduling::Batch ? 1 : 0);
  }
}

TEST(ServerLimits, FullServerRefusesWithServerBusyAtOnce) {
  auto settings = testSettings();
  settings.maxThreads = 2;
  settings.maxQueued = 0;
  InProcessServer server(settings);
  auto a = servedClient(server.port(), "a");
  auto b = servedClient(server.port(), "b");
  TestClient refused(server.port());
  EXPECT_EQ(refused.readAll(Poco::Timespan(2, 0)), "ERR server busy\n");
}

TEST(ServerLimits, ServiceRecoversAsSoonAsAConnectionEnds) {
  auto settings = testSettings();
  settings.maxThreads = 1;
  settings.maxQueued = 0;
  InProcessServer server(settings);
  auto a = servedClient(server.port(), "a");
  TestClient refused(server.port());
  EXPECT_EQ(refused.readAll(), "ERR server busy\n");
  a->send("exit\n");
  EXPECT_EQ(a->readAll(), "FIN\n");
  a.reset();
  // The slot frees when the connection object is gone; wait for that, not a guess.
  Poco::Stopwatch clock;
  clock.start();
  while (server.server().gauges().openConnections > 0 && clock.elapsedSeconds() < 10) std::this_thread::yield();
  auto again = servedClient(server.port(), "again");
}

TEST(ServerLimits, QueuedConnectionIsServedWhenAThreadFrees) {
  auto settings = testSettings();
  settings.maxThreads = 1;
  settings.maxQueued = 1;
  InProcessServer server(settings);
  auto a = servedClient(server.port(), "a");
  TestClient queued(server.port());
  queued.send("waiting\n");
  TestClient refused(server.port());
  EXPECT_EQ(refused.readAll(), "ERR server busy\n");
  a->send("exit\n");
  EXPECT_EQ(a->readAll(), "FIN\n");
  EXPECT_EQ(queued.readLine(), "echo : waiting\n");
}

TEST(ServerLimits, PerAddressLimitRefusesWithTooManyConnections) {
  auto settings = testSettings();
  settings.maxConnectionsPerAddress = 2;
  InProcessServer server(settings);
  auto a = servedClient(server.port(), "a");
  auto b = servedClient(server.port(), "b");
  TestClient third(server.port());
  EXPECT_EQ(third.readAll(), "ERR too many connections\n");
}

TEST(ServerLimits, ClientThatNeverReadsDoesNotBlockOthers) {
  InProcessServer server;
  TestClient hog(server.port());
  std::atomic<bool> stop{false};
  std::atomic<long> sent{0};
  std::thread writer([&] {
    const std::string lines = [] {
      std::string s;
      for (int i = 0; i < 1000; ++i) s += "never read this reply, please\n";
      return s;
    }();
    hog.socket().setSendTimeout(Poco::Timespan(0, 200000));
    try {
      while (!stop && sent < 100L * 1024 * 1024) {
        sent += hog.socket().sendBytes(lines.data(), static_cast<int>(lines.size()));
      }
    } catch (const Poco::Exception&) {
      // Timed out: both directions are full, as intended.
    }
  });
  // Wait until the hog's buffers are full (its writes stall), then check the others.
  Poco::Stopwatch clock;
  clock.start();
  long last = -1;
  while (clock.elapsedSeconds() < 10 && sent != last) {
    last = sent;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // polls progress of the writer
  }
  for (int i = 0; i < 20; ++i) {
    TestClient other(server.port());
    other.send("still here\n");
    EXPECT_EQ(other.readLine(Poco::Timespan(2, 0)), "echo : still here\n");
  }
  stop = true;
  writer.join();
  EXPECT_LT(sent.load(), 100L * 1024 * 1024) << "the server kept reading without bound";
}

TEST(ServerLimits, PeerResettingMidReplyCostsOnlyItsConnection) {
  InProcessServer server;
  for (int round = 0; round < 20; ++round) {
    TestClient doomed(server.port());
    std::string lines;
    for (int i = 0; i < 5000; ++i) lines += "reset me\n";
    doomed.send(lines);
    doomed.send("unterminated mid-li");
    doomed.reset();
  }
  TestClient survivor(server.port());
  survivor.send("alive?\n");
  EXPECT_EQ(survivor.readLine(), "echo : alive?\n");
  // Every reset connection was released: only the survivor is left.
  Poco::Stopwatch clock;
  clock.start();
  while (server.server().gauges().openConnections != 1 && clock.elapsed() < test::kDeadline.totalMicroseconds()) {
    std::this_thread::yield();
  }
  EXPECT_EQ(server.server().gauges().openConnections, 1u);
  EXPECT_EQ(server.server().metrics().connectionsOpened.load(), 21u);
}

}  // namespace
}  // namespace echod
