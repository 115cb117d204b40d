// docs/protocol.md "Shutdown": stop accepting, finish received lines, FIN to
// every open connection (idle ones too), ERR shutting down after the drain time.
#include <gtest/gtest.h>

#include <Poco/Net/NetException.h>
#include <Poco/Stopwatch.h>

#include <future>
#include <string>
#include <thread>

#include "InProcessServer.h"
#include "TestClient.h"

namespace echod {
namespace {

using test::InProcessServer;
using test::TestClient;
using test::testSettings;

TEST(ServerShutdown, IdleConnectionsGetFinAndTheServerStopsWellWithinTheDrainTime) {
  InProcessServer server;
  std::vector<std::unique_ptr<TestClient>> idle;
  for (int i = 0; i < 5; ++i) {
    idle.push_back(std::make_unique<TestClient>(server.port()));
    idle.back()->send("hi\n");
    EXPECT_EQ(idle.back()->readLine(), "echo : hi\n");
  }
  auto stopped = std::async(std::launch::async, [&] { return server.server().shutdown(); });
  for (auto& client : idle) EXPECT_EQ(client->readAll(), "FIN\n");
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(stopped.get()) << "every connection should have finished within the drain time";
}

TEST(ServerShutdown, LinesAlreadySentAreAnsweredBeforeFin) {
  InProcessServer server;
  TestClient client(server.port());
  client.send("warm\n");
  EXPECT_EQ(client.readLine(), "echo : warm\n");
  client.send("one\ntwo\nhalf a li");
  // Both lines are in the server's receive buffer (or read) before the drain wakes it.
  EXPECT_TRUE(server.server().shutdown());
  EXPECT_EQ(client.readAll(), "echo : one\necho : two\nFIN\n");
}

TEST(ServerShutdown, RawFramingFinAtShutdownHasNoNewline) {
  auto settings = testSettings();
  settings.session.framing = Framing::Raw;
  InProcessServer server(settings);
  TestClient client(server.port());
  client.send("x");
  EXPECT_EQ(client.read(8), "echo : x");
  EXPECT_TRUE(server.server().shutdown());
  EXPECT_EQ(client.readAll(), "FIN");
}

TEST(ServerShutdown, AfterShutdownConnectsAreRefused) {
  InProcessServer server;
  const auto port = server.port();
  EXPECT_TRUE(server.server().shutdown());
  EXPECT_THROW(TestClient late(port), Poco::Net::ConnectionRefusedException);
}

TEST(ServerShutdown, NewConnectionDuringTheDrainGetsShuttingDownAndIsCounted) {
  auto settings = testSettings();
  settings.drainTimeout = Poco::Timespan(3, 0);
  InProcessServer server(settings);
  // A connection that cannot finish at once holds the drain open: its worker
  // is stuck writing replies to a client that does not read.
  TestClient stuck(server.port());
  stuck.sendUntilStuck();
  auto drain = std::async(std::launch::async, [&] { return server.server().shutdown(); });
  Poco::Stopwatch clock;
  clock.start();
  while (!server.server().gauges().draining && clock.elapsed() < test::kDeadline.totalMicroseconds()) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(server.server().gauges().draining);
  TestClient late(server.port());
  EXPECT_EQ(late.readAll(), "ERR shutting down\n");
  // Counted right after the reply went out: wait for it, within the deadline.
  const auto& refused = server.server().metrics().refused[ServerMetrics::slot(ErrorReason::ShuttingDown)];
  clock.restart();
  while (refused.load() == 0 && clock.elapsed() < test::kDeadline.totalMicroseconds()) std::this_thread::yield();
  EXPECT_EQ(refused.load(), 1u);
  EXPECT_FALSE(drain.get()) << "the stuck connection cannot have finished";
}

TEST(ServerShutdown, ConnectionThatCannotFinishGetsShuttingDownAfterTheDrainTime) {
  auto settings = testSettings();
  settings.maxThreads = 1;
  settings.maxQueued = 1;
  settings.drainTimeout = Poco::Timespan(0, 500000);
  InProcessServer server(settings);
  // The only worker is stuck writing to a client that never reads ...
  TestClient stuck(server.port());
  stuck.sendUntilStuck();
  // ... so this one waits in the queue and cannot finish in time either.
  TestClient queued(server.port());
  Poco::Stopwatch clock;
  clock.start();
  EXPECT_FALSE(server.server().shutdown());
  EXPECT_GE(clock.elapsed(), settings.drainTimeout.totalMicroseconds());
  EXPECT_EQ(queued.readAll(), "ERR shutting down\n");
}

TEST(ServerShutdown, AConnectionBusyWritingStopsBetweenTwoRepliesAtTheDrainDeadline) {
  auto settings = testSettings();
  settings.session.prefix = std::string(1000, 'p');
  settings.drainTimeout = Poco::Timespan(0, 300000);
  InProcessServer server(settings);
  TestClient client(server.port());
  std::string lines;
  for (int i = 0; i < 10000; ++i) lines += "x\n";
  client.send(lines);  // 10,000 replies of 1,002 bytes: 10 MB to write
  const std::string reply = std::string(1000, 'p') + "x\n";
  std::string received = client.read(reply.size());
  ASSERT_EQ(received, reply);
  auto stopped = std::async(std::launch::async, [&] { return server.server().shutdown(); });
  // A slow reader (64 KiB every 5 ms, at most 13 MB/s): the server is still
  // writing when the drain time is over. Bounded by the test deadline.
  const std::string errLine = "ERR shutting down\n";
  const auto endsWithErr = [&] {
    return received.size() >= errLine.size() &&
           received.compare(received.size() - errLine.size(), errLine.size(), errLine) == 0;
  };
  Poco::Stopwatch reading;
  reading.start();
  while (!endsWithErr() && reading.elapsed() < test::kDeadline.totalMicroseconds()) {
    received += client.read(64 * 1024, Poco::Timespan(0, 50000));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a slow client, not an ordering
  }
  EXPECT_FALSE(stopped.get()) << "the connection finished within the drain time";
  received += client.readAll();
  ASSERT_TRUE(endsWithErr()) << received.size() << " bytes, ending " << received.substr(received.size() - 20);
  const std::size_t repliesBytes = received.size() - errLine.size();
  EXPECT_EQ(repliesBytes % reply.size(), 0u) << "cut inside a reply";
  EXPECT_LT(repliesBytes / reply.size(), 10000u) << "every reply went out after the deadline";
}

}  // namespace
}  // namespace echod
