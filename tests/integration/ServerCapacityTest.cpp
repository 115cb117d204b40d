// Capacity (docs/protocol.md, "Capacity" and the idle rules): the pool follows
// the machine's limits, idle means no complete message, a full server makes
// room for newcomers, queued connections get an answer, and a thread the
// system refuses becomes `ERR server busy`. Real sockets, real processes.
#include <gtest/gtest.h>

#include <Poco/Stopwatch.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ChildProcess.h"
#include "Deadlines.h"
#include "InProcessServer.h"
#include "TestClient.h"

namespace echod {
namespace {

using test::InProcessServer;
using test::roundTrip;
using test::ServerProcess;
using test::TestClient;
using test::testSettings;

bool inCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

/// Waits until `done` holds, calling it at most every `step`; false at the deadline.
bool waitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(10),
               std::chrono::milliseconds step = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
  return true;
}

/// Seconds with decimals: Poco::Stopwatch::elapsedSeconds() truncates to whole seconds.
double seconds(const Poco::Stopwatch& clock) { return static_cast<double>(clock.elapsed()) / 1e6; }

/// Whatever the server has sent and the client has not read yet, without
/// waiting: a receive timeout would cost two kernel ticks (8 ms) per call.
std::string pending(TestClient& client) {
  auto& socket = client.socket();
  if (!socket.poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) return "";
  const int ready = socket.available();
  return ready > 0 ? client.read(static_cast<std::size_t>(ready)) : std::string();
}

/// A connection that has been given a worker thread (it answered a line).
std::unique_ptr<TestClient> servedClient(std::uint16_t port, const std::string& name) {
  auto client = std::make_unique<TestClient>(port);
  client->send(name + "\n");
  EXPECT_EQ(client->readLine(), "echo : " + name + "\n");
  return client;
}

/// A cgroup v1 `pids` group of our own, removed at the end; needs root.
class PidsCgroup {
 public:
  explicit PidsCgroup(int maxPids) {
    static int serial = 0;
    const std::filesystem::path root("/sys/fs/cgroup/pids");
    _dir = root / ("echod-test-" + std::to_string(::getpid()) + "-" + std::to_string(++serial));
    std::error_code ec;
    if (::geteuid() != 0 || !std::filesystem::exists(root / "cgroup.procs") ||
        !std::filesystem::create_directory(_dir, ec)) {
      _dir.clear();
      return;
    }
    std::ofstream(_dir / "pids.max") << maxPids << '\n';
  }
  ~PidsCgroup() {
    if (_dir.empty()) return;
    // The server has exited; its pids leave the group as they are reaped.
    waitUntil([this] { return ::rmdir(_dir.c_str()) == 0; }, std::chrono::seconds(5));
  }
  bool available() const { return !_dir.empty(); }
  /// Runs the command that follows inside this group: its pid joins, then it execs.
  std::vector<std::string> launcher() const {
    return {"/bin/sh", "-c", "echo $$ > " + (_dir / "cgroup.procs").string() + " && exec \"$@\"", "sh"};
  }

 private:
  std::filesystem::path _dir;
};

#define REQUIRE_CGROUP(group)                                                                    \
  if (!(group).available()) {                                                                    \
    if (inCi()) FAIL() << "needs root and the cgroup v1 pids controller at /sys/fs/cgroup/pids"; \
    GTEST_SKIP() << "needs root and the cgroup v1 pids controller at /sys/fs/cgroup/pids";       \
  }

std::size_t openFds(int pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++n;
  }
  return n;
}

// ---- the pool follows the machine ----

TEST(ServerCapacity, PoolOnTheDefaultsHoldsTenThousandHere) {
  ServerProcess server({});
  const auto line = server.waitForStderrLine("worker pool: ");
  ASSERT_TRUE(line) << server.err();
  EXPECT_GE(std::stoi(*line), 10000) << *line;
}

TEST(ServerCapacity, SmallerFileLimitGivesSmallerPoolAndTheLogNamesIt) {
  ServerProcess server({}, {}, {"prlimit", "--nofile=3000:3000", "--"});
  const auto line = server.waitForStderrLine("worker pool: ");
  ASSERT_TRUE(line) << server.err();
  // 3000 descriptors, less 64 reserved and 64 for the queue.
  EXPECT_EQ(line->substr(0, line->find(" (")), "2872 threads, decided by RLIMIT_NOFILE");
  EXPECT_EQ(roundTrip(server.port(), "sized"), "echo : sized\n");
}

TEST(ServerCapacity, SmallerPidsCgroupGivesSmallerPoolAndTheLogNamesIt) {
  PidsCgroup group(500);
  REQUIRE_CGROUP(group);
  ServerProcess server({}, {}, group.launcher());
  const auto line = server.waitForStderrLine("worker pool: ");
  ASSERT_TRUE(line) << server.err();
  const int threads = std::stoi(*line);
  // 500, less the server's own pid(s) at start-up and 32 reserved.
  EXPECT_LE(threads, 500 - 32);
  EXPECT_GE(threads, 500 - 32 - 4);
  EXPECT_NE(line->find("decided by cgroup pids.max"), std::string::npos) << *line;
  EXPECT_EQ(roundTrip(server.port(), "sized"), "echo : sized\n");
}

TEST(ServerCapacity, MaxThreadsTwoAloneStartsAndServes) {
  ServerProcess server({"--max-threads=2"});
  const auto line = server.waitForStderrLine("worker pool: ");
  ASSERT_TRUE(line) << server.err();
  EXPECT_EQ(line->substr(0, line->find(" (")), "2 threads, decided by echo.maxThreads");
  auto a = servedClient(server.port(), "a");
  auto b = servedClient(server.port(), "b");
}

TEST(ServerCapacity, MinThreadsAboveMaxThreadsExits78) {
  test::ChildProcess server(ECHO_SERVER_PATH, {"--port=0", "--admin-port=0", "--min-threads=3", "--max-threads=2"});
  EXPECT_EQ(server.waitForExit(), 78);
  EXPECT_NE(server.err().find("invalid value '3' for echo.minThreads"), std::string::npos) << server.err();
}

// ---- the system refuses a thread ----

TEST(ServerCapacity, RefusedThreadGetsServerBusyAtOnceAndServiceGoesOn) {
  // Room for the server's own threads and a few workers, far below --max-threads.
  PidsCgroup group(12);
  REQUIRE_CGROUP(group);
  ServerProcess server({"--max-threads=200", "--min-threads=1", "--queue-timeout=30"}, {}, group.launcher());
  ASSERT_NE(server.port(), 0) << server.err();
  const std::size_t fdsBefore = openFds(server.pid());
  std::vector<std::unique_ptr<TestClient>> served;
  std::vector<double> refusedAfterMs;
  for (int i = 0; i < 20; ++i) {
    auto client = std::make_unique<TestClient>(server.port());
    Poco::Stopwatch clock;
    clock.start();
    client->send("c" + std::to_string(i) + "\n");
    const std::string reply = client->readLine();
    if (reply == "ERR server busy\n") {
      refusedAfterMs.push_back(static_cast<double>(clock.elapsed()) / 1000.0);
      EXPECT_EQ(client->readAll(), "");  // and closed
    } else {
      EXPECT_EQ(reply, "echo : c" + std::to_string(i) + "\n");
      served.push_back(std::move(client));
    }
  }
  ASSERT_FALSE(served.empty());
  ASSERT_FALSE(refusedAfterMs.empty()) << "the pids limit never bit";
  for (const double ms : refusedAfterMs) EXPECT_LT(ms, 1000.0) << "refused, but not at once";
  EXPECT_TRUE(server.waitForStderr("the system refused a new worker thread"));
  // The service goes on: those served still are, and freed threads serve again.
  EXPECT_EQ((served.front()->send("still\n"), served.front()->readLine()), "echo : still\n");
  served.clear();
  EXPECT_TRUE(waitUntil([&] { return roundTrip(server.port(), "again") == "echo : again\n"; }));
  // Nothing leaks: every refused or finished connection's descriptor is gone.
  EXPECT_TRUE(waitUntil([&] { return openFds(server.pid()) <= fdsBefore; })) << openFds(server.pid());
  std::cout << "[ figures  ] pids.max 12: " << 20 - refusedAfterMs.size() << " served, " << refusedAfterMs.size()
            << " refused with ERR server busy, slowest refusal "
            << *std::max_element(refusedAfterMs.begin(), refusedAfterMs.end()) << " ms\n";
}

// ---- idle means no complete message ----

TEST(ServerCapacity, DrippingClientsPastThePoolAreCutAtTheIdleTimeoutAndAFreshOneIsServed) {
  constexpr int kPool = 50;
  constexpr int kDrippers = 60;  // more than the pool: 10 wait in the queue
  constexpr std::int64_t kIdleMs = 3000;
  auto settings = testSettings();
  settings.maxThreads = kPool;
  settings.idleTimeout = Poco::Timespan(kIdleMs / 1000, 0);
  InProcessServer server(settings);
  struct Dripper {
    std::unique_ptr<TestClient> client;
    std::int64_t connectedMs = 0;  ///< before connect(): no later than the server's admission
    std::int64_t admittedMs = -1;  ///< the server's own admission time (its registry), coarse clock
    std::string got;
    std::int64_t cutMs = -1;  ///< when this loop saw the reply, coarse clock
  };
  std::vector<Dripper> drippers(kDrippers);
  for (auto& d : drippers) {
    d.connectedMs = CoarseClock::nowMs();
    d.client = std::make_unique<TestClient>(server.port());
    d.client->send("x");  // a line that never ends
  }
  // A dripper's idle time runs from its admission, which can come well after
  // its connect() returned: the acceptor starts a worker thread for each of
  // the first 50, slowly under TSan. The registry says when it admitted each.
  ASSERT_TRUE(waitUntil([&] { return server.server().registry().size() == kDrippers; }));
  std::size_t total = 0;
  const auto views = server.server().registry().snapshot(kDrippers, total);
  const std::int64_t viewedMs = CoarseClock::nowMs();  // no earlier than the snapshot's own clock read
  for (auto& d : drippers) {
    const std::string local = d.client->socket().address().toString();
    for (const auto& view : views) {
      if (view.peer == local) d.admittedMs = viewedMs - view.ageMs;  // no earlier than the real admission
    }
    ASSERT_GE(d.admittedMs, 0) << local << " is not in the registry";
  }
  std::unique_ptr<TestClient> fresh;
  Poco::Stopwatch freshClock;
  std::string freshReply;
  std::int64_t freshServedMs = -1;
  Poco::Stopwatch clock;
  clock.start();
  int cut = 0;
  std::int64_t longestPassMs = 0;  // this loop's own pace: how late it can see a reply
  for (int drip = 1; (cut < kDrippers || freshReply.empty()) && seconds(clock) < 10;) {
    const std::int64_t passStart = CoarseClock::nowMs();
    if (!fresh && clock.elapsed() >= 1000000) {  // one second into the attack, with every thread taken
      fresh = std::make_unique<TestClient>(server.port());
      freshClock.start();
      fresh->send("fresh\n");
    }
    if (fresh && freshReply.empty()) {
      freshReply = pending(*fresh);
      if (!freshReply.empty()) {
        freshClock.stop();
        freshServedMs = CoarseClock::nowMs();
      }
    }
    const bool dripNow = clock.elapsed() >= drip * 500000;  // one byte every 0.5 s
    if (dripNow) ++drip;
    for (auto& d : drippers) {
      if (d.cutMs >= 0) continue;
      d.got += pending(*d.client);
      if (!d.got.empty()) {
        d.cutMs = CoarseClock::nowMs();
        ++cut;
      } else if (dripNow) {
        d.client->send("i");
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the loop's pace, not a wait for ordering
    longestPassMs = std::max(longestPassMs, CoarseClock::nowMs() - passStart);
  }
  // The server's promise and its scheduling margin (Deadlines.h), plus the
  // time this loop takes to see a reply.
  const std::int64_t latestMs = test::latestSeenMs(kIdleMs) + longestPassMs;
  std::int64_t latest = 0;
  std::int64_t lastAdmittedMs = 0;
  for (auto& d : drippers) {
    EXPECT_EQ(d.got, "ERR idle timeout\n");
    EXPECT_EQ(d.client->readAll(), "");
    EXPECT_GE(d.cutMs - d.connectedMs, kIdleMs);  // never early
    EXPECT_LE(d.cutMs - d.admittedMs, latestMs);  // drips are not activity: cut at the timeout
    latest = std::max(latest, d.cutMs - d.admittedMs);
    lastAdmittedMs = std::max(lastAdmittedMs, d.admittedMs);
  }
  EXPECT_EQ(freshReply, "echo : fresh\n");
  // It waited for a thread the drippers held, and was served as soon as the timeout freed them.
  EXPECT_GE(seconds(freshClock), 1);
  EXPECT_LE(freshServedMs - lastAdmittedMs, latestMs);
  std::cout << "[ figures  ] " << kDrippers << " drippers on a pool of " << kPool << ": all cut with ERR idle timeout,"
            << " the latest " << latest - kIdleMs << " ms after the idle timeout (bound " << latestMs - kIdleMs
            << " ms, of which " << longestPassMs << " ms this loop's longest pass); a fresh client waited "
            << freshClock.elapsed() / 1000 << " ms\n";
}

TEST(ServerCapacity, FullPoolEvictsTheLongestIdleForANewcomerButNeverAnActiveClient) {
  auto settings = testSettings();
  settings.maxThreads = 50;
  settings.idleTimeoutUnderLoad = Poco::Timespan(1, 0);
  InProcessServer server(settings);
  auto oldest = servedClient(server.port(), "oldest");
  Poco::Stopwatch gap;
  gap.start();
  waitUntil([&] { return gap.elapsed() >= 300000; });  // three ticks between the oldest and the rest
  std::vector<std::unique_ptr<TestClient>> idle;
  for (int i = 0; i < 48; ++i) idle.push_back(servedClient(server.port(), "idle" + std::to_string(i)));
  auto active = servedClient(server.port(), "active");
  // Every thread is taken; all but `active` go idle for over a second.
  Poco::Stopwatch clock;
  clock.start();
  int sent = 0;
  const auto keepActive = [&] {
    if (clock.elapsed() / 200000 >= sent) {
      active->send("ping\n");
      EXPECT_EQ(active->readLine(), "echo : ping\n");
      ++sent;
    }
  };
  waitUntil([&] {
    keepActive();
    return clock.elapsed() >= 1200000;
  });
  TestClient newcomer(server.port());
  Poco::Stopwatch waited;
  waited.start();
  newcomer.send("new\n");
  std::string reply;
  waitUntil([&] {
    keepActive();
    reply += pending(newcomer);
    return !reply.empty();
  });
  EXPECT_EQ(reply, "echo : new\n");
  EXPECT_LT(seconds(waited), 2);
  EXPECT_EQ(oldest->readAll(), "ERR idle timeout\n");
  for (auto& c : idle) EXPECT_EQ(pending(*c), "");  // still open, nothing said
  keepActive();
  active->send("still here\n");
  EXPECT_EQ(active->readLine(), "echo : still here\n");
  EXPECT_EQ(server.server().metrics().evictedUnderLoad.load(), 1u);
  std::cout << "[ figures  ] full pool of 50: the newcomer was served after " << waited.elapsed() / 1000
            << " ms, the longest idle evicted\n";
}

// ---- the queue ----

TEST(ServerCapacity, QueuedConnectionGetsServerBusyAtTheQueueTimeout) {
  auto settings = testSettings();
  settings.maxThreads = 1;
  settings.queueTimeout = Poco::Timespan(1, 0);
  settings.idleTimeoutUnderLoad = Poco::Timespan(0);
  InProcessServer server(settings);
  auto holder = servedClient(server.port(), "holder");
  // The queue deadline runs from the admission: bounded from below by a clock
  // started before the connect, from above by one started once it is queued.
  Poco::Stopwatch sinceConnect;
  sinceConnect.start();
  TestClient waiting(server.port());
  waiting.send("waiting\n");
  ASSERT_TRUE(waitUntil([&] { return server.server().gauges().queued == 1; }));
  Poco::Stopwatch sinceQueued;
  sinceQueued.start();
  EXPECT_EQ(waiting.readAll(), "ERR server busy\n");
  EXPECT_GE(sinceConnect.elapsed() / 1000, 1000);
  EXPECT_LE(sinceQueued.elapsed() / 1000, test::latestSeenMs(1000));
  const auto& m = server.server().metrics();
  // Counted by the housekeeper right after it answered.
  EXPECT_TRUE(waitUntil([&] { return m.queueTimeouts.load() == 1u; }));
  EXPECT_EQ(m.refused[ServerMetrics::slot(ErrorReason::ServerBusy)].load(), 1u);
  // The holder is untouched; once it leaves, the next one is served.
  holder->send("exit\n");
  EXPECT_EQ(holder->readAll(), "FIN\n");
  // Closed, not just read to the end: after its FIN the server waits (up to 1 s,
  // its lingering close) for the client's close before the thread is free, and
  // the next connection's queue timeout is 1 s too.
  holder.reset();
  EXPECT_EQ(roundTrip(server.port(), "next"), "echo : next\n");
}

TEST(ServerCapacity, ClientThatNeverClosesAfterFinDoesNotHoldItsThread) {
  // After FIN the server waits up to 1 s for the client's close before it
  // closes (so that late bytes get no RST). That wait is the housekeeper's:
  // the worker thread is free at once.
  auto settings = testSettings();
  settings.maxThreads = 1;
  InProcessServer server(settings);
  TestClient lingering(server.port());
  Poco::Stopwatch clock;  // started before the FIN is asked for: no later than the lingering begins
  clock.start();
  lingering.send("exit\n");
  EXPECT_EQ(lingering.read(4), "FIN\n");
  Poco::Stopwatch next;
  next.start();
  EXPECT_EQ(roundTrip(server.port(), "next"), "echo : next\n");
  // Had the thread waited for the first client's close, this would take the
  // whole linger time (1 s); a free thread answers in milliseconds.
  EXPECT_LT(seconds(next), 0.9) << "the only thread waited for the first client's close";
  EXPECT_EQ(server.server().lingering().size(), 1u);
  // Late bytes are discarded (a close with them unread would be a reset);
  // at the linger time (1 s) the server closes its side for good.
  lingering.send("late\n");
  EXPECT_TRUE(waitUntil([&] { return server.server().lingering().size() == 0; }));
  EXPECT_GE(seconds(clock), 0.9);
  bool closed = false;
  EXPECT_EQ(lingering.readUntilClosed(closed), "");
  EXPECT_TRUE(closed);
  EXPECT_FALSE(lingering.wasReset());
}

TEST(ServerCapacity, QueuedConnectionsGetShuttingDownAtShutdown) {
  auto settings = testSettings();
  settings.maxThreads = 1;
  settings.idleTimeoutUnderLoad = Poco::Timespan(0);
  InProcessServer server(settings);
  auto holder = servedClient(server.port(), "holder");
  TestClient b(server.port());
  TestClient c(server.port());
  b.send("b\n");
  ASSERT_TRUE(waitUntil([&] { return server.server().gauges().queued == 2; }));
  EXPECT_TRUE(server.server().shutdown());
  EXPECT_EQ(holder->readAll(), "FIN\n");
  EXPECT_EQ(b.readAll(), "ERR shutting down\n");
  EXPECT_EQ(c.readAll(), "ERR shutting down\n");
  EXPECT_EQ(server.server().metrics().refused[ServerMetrics::slot(ErrorReason::ShuttingDown)].load(), 2u);
}

}  // namespace
}  // namespace echod
