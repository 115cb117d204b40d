// Faults from docs/reliability.md, against the echo-server binary: fd
// exhaustion, a client that sends without reading, slowloris, connect floods.
// Figures are printed so the test output shows them.
#include <gtest/gtest.h>

#include <Poco/Stopwatch.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ChildProcess.h"
#include "TestClient.h"

namespace echod {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;
using test::roundTrip;
using test::ServerProcess;
using test::TestClient;

long residentKiB(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> value;
      return value;
    }
    status.ignore(4096, '\n');
  }
  return -1;
}

TEST(ServerFault, SurvivesRunningOutOfFileDescriptorsAndServesAgain) {
  ChildProcess server("/bin/sh",
                      {"-c", "ulimit -n 64 && exec " ECHO_SERVER_PATH " --host=127.0.0.1 --port=0 --admin-port=0"});
  const auto address = server.waitForStderrLine("listening on ");
  ASSERT_TRUE(address.has_value()) << server.err();
  const auto port = static_cast<std::uint16_t>(std::stoi(address->substr(address->rfind(':') + 1)));
  {
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 200; ++i) {
      try {
        clients.push_back(std::make_unique<TestClient>(port));
      } catch (const Poco::Exception&) {
        // The backlog is full: that attempt failed on our side, the server lives on.
      }
    }
    EXPECT_TRUE(server.waitForStderr("out of file descriptors", 10s)) << server.err();
    EXPECT_FALSE(server.waitForExit(0ms).has_value()) << "the server died";
    std::cout << "[ figures  ] " << clients.size() << " of 200 connects completed with ulimit -n 64\n";
  }
  // All closed: the server accepts and drops the stale ones, then serves again.
  std::string reply;
  Poco::Stopwatch clock;
  clock.start();
  while (reply != "echo : again\n" && clock.elapsedSeconds() < 20) {
    try {
      reply = roundTrip(port, "again");
    } catch (const Poco::Exception&) {
      reply.clear();
    }
  }
  EXPECT_EQ(reply, "echo : again\n");
  std::cout << "[ figures  ] served again " << clock.elapsed() / 1000 << " ms after the clients closed\n";
}

TEST(ServerFault, ClientSendingWithoutReadingPinsNoMemoryAndBlocksNoOne) {
  ServerProcess server({});
  const long before = residentKiB(server.pid());
  TestClient hog(server.port());
  hog.socket().setSendTimeout(Poco::Timespan(0, 500000));
  std::size_t sent = 0;
  std::thread writer([&] {
    const std::string block = [] {
      std::string s;
      while (s.size() < 1 << 20) s += "a line nobody will ever read the echo of\n";
      return s;
    }();
    try {
      while (sent < 100u << 20) {
        sent += static_cast<std::size_t>(hog.socket().sendBytes(block.data(), static_cast<int>(block.size())));
      }
    } catch (const Poco::Exception&) {
      // Send timed out: the server stopped reading, as TCP flow control says.
    }
  });
  writer.join();
  double worstMs = 0;
  for (int i = 0; i < 50; ++i) {
    Poco::Stopwatch clock;
    clock.start();
    EXPECT_EQ(roundTrip(server.port(), "others still served"), "echo : others still served\n");
    worstMs = std::max(worstMs, clock.elapsed() / 1000.0);
  }
  const long after = residentKiB(server.pid());
  std::cout << "[ figures  ] sent " << (sent >> 20) << " MiB unread; server RSS " << before << " -> " << after
            << " KiB; slowest of 50 other round trips " << worstMs << " ms\n";
  EXPECT_LT(sent, 100u << 20) << "the server kept reading from a client that does not read";
  EXPECT_LT(after - before, 10 * 1024) << "RSS grew by 10 MiB or more";
  EXPECT_LT(worstMs, 1000.0);  // generous: the figure above is what to look at (under 100 ms expected)
}

TEST(ServerFault, ConnectFloodPastMaxThreadsGetsServerBusyAndServiceRecovers) {
  ServerProcess server({"--max-threads=20", "--max-queued=0"});
  std::vector<std::unique_ptr<TestClient>> held;
  for (int i = 0; i < 20; ++i) {
    held.push_back(std::make_unique<TestClient>(server.port()));
    held.back()->send("hold\n");
    ASSERT_EQ(held.back()->readLine(), "echo : hold\n");
  }
  int busy = 0;
  Poco::Stopwatch clock;
  clock.start();
  for (int i = 0; i < 300; ++i) {
    TestClient flood(server.port());
    busy += flood.readAll(Poco::Timespan(5, 0)) == "ERR server busy\n" ? 1 : 0;
  }
  const auto floodMs = clock.elapsed() / 1000;
  EXPECT_EQ(busy, 300);
  held.clear();
  std::string reply;
  clock.restart();
  // Recovery: the first connection after the held ones closed is served (the
  // slots free as their threads notice the close; poll with a deadline).
  while (reply != "echo : recovered\n" && clock.elapsedSeconds() < 10)
    reply = roundTrip(server.port(), "recovered", Poco::Timespan(5, 0));
  EXPECT_EQ(reply, "echo : recovered\n");
  std::cout << "[ figures  ] 300 refused with ERR server busy in " << floodMs << " ms; served again after "
            << clock.elapsed() / 1000 << " ms\n";
}

}  // namespace
}  // namespace echod
