// The worker threads as the acceptor drives them: admission queues a
// connection and asks WorkerThreads for one more worker, which serves it;
// idle workers above the minimum leave after their park time; a burst that
// comes back while they are parked starts no thread. Real sockets on
// loopback, the registry and the workers of the server, no acceptor thread:
// the test admits each accepted socket itself. And what a worker start costs
// in memory: echo-server's static TLS, zeroed for every new thread.
#include <gtest/gtest.h>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <elf.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "service/connection/ConnectionContext.h"
#include "service/connection/ConnectionEvents.h"
#include "service/connection/ConnectionMetrics.h"
#include "service/connection/ConnectionRegistry.h"
#include "service/connection/LingeringCloses.h"
#include "service/connection/WorkerThreads.h"
#include "tests/support/TestClient.h"

namespace echod {
namespace {

using test::eventually;
using test::TestClient;

/// The connection path of a server without its acceptor and housekeeper.
class Workers {
 public:
  Workers(std::size_t min, std::size_t max, std::int64_t parkMs)
      : _registry(max + 16, 0, WorkerHandOff::Limits{min, max}),
        _lingering(64),
        _context{ConnectionOptions{}, _registry, _lingering, _events, _metrics},
        _threads(_context, 256 * 1024, parkMs),
        _listener(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    _threads.start(min);
    // The workers started up front park before the first connection comes:
    // otherwise it is queued and one more is started, as it would be in a server.
    EXPECT_TRUE(eventually([&] { return _registry.counts().parked == min; }));
  }
  ~Workers() {
    _registry.beginDrain();
    _threads.stop();
    _lingering.closeAll();
  }

  /// A client whose connection the test admits, as AdmissionFilter would.
  std::unique_ptr<TestClient> connect() {
    auto client = std::make_unique<TestClient>(_listener.address().port());
    const auto admission = _registry.admit(_listener.acceptConnection(), ConnectionSlot::Listener::Plain);
    EXPECT_FALSE(admission.refusal);
    if (admission.startWorker) _threads.request();
    return client;
  }
  std::size_t threads() const { return _threads.threads(); }
  const ConnectionRegistry& registry() const { return _registry; }

 private:
  ConnectionMetrics _metrics;
  ConnectionEvents _events;
  ConnectionRegistry _registry;
  LingeringCloses _lingering;
  const ConnectionContext _context;
  WorkerThreads _threads;
  Poco::Net::ServerSocket _listener;
};

std::string echoOf(TestClient& client, const std::string& line) {
  client.send(line + "\n");
  return client.readLine();
}

TEST(WorkerThreads, EachQueuedConnectionGetsAWorkerUpToTheMostAndThenWaitsForOne) {
  Workers workers(1, 4, WorkerThreads::kParkMs);
  std::vector<std::unique_ptr<TestClient>> served;
  for (int i = 0; i < 4; ++i) {
    served.push_back(workers.connect());
    EXPECT_EQ(echoOf(*served.back(), "c" + std::to_string(i)), "echo : c" + std::to_string(i) + "\n");
  }
  EXPECT_EQ(workers.threads(), 4u);
  auto fifth = workers.connect();  // four workers hold four connections: it waits
  fifth->send("waits\n");
  EXPECT_EQ(fifth->readLine(Poco::Timespan(0, 300000)), "");
  EXPECT_EQ(workers.registry().counts().queued, 1u);
  served.front()->send("exit\n");
  EXPECT_EQ(served.front()->readAll(), "FIN\n");
  EXPECT_EQ(fifth->readLine(), "echo : waits\n") << "the worker that finished took it";
  EXPECT_EQ(workers.threads(), 4u) << "no fifth thread";
}

TEST(WorkerThreads, WorkersAboveTheMinimumLeaveOnceParkedTheirTimeAndTheMinimumStays) {
  constexpr std::int64_t kParkMs = 200;
  Workers workers(2, 16, kParkMs);
  {
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 6; ++i) {
      clients.push_back(workers.connect());
      EXPECT_EQ(echoOf(*clients.back(), "x"), "echo : x\n");
    }
    EXPECT_EQ(workers.threads(), 6u);
  }  // closed: the six park
  EXPECT_TRUE(eventually([&] { return workers.threads() == 2; })) << workers.threads();
  // The two kept park again each time theirs runs out, and still serve.
  Poco::Thread::sleep(static_cast<long>(3 * kParkMs));
  EXPECT_EQ(workers.threads(), 2u);
  auto again = workers.connect();
  EXPECT_EQ(echoOf(*again, "again"), "echo : again\n");
  EXPECT_EQ(workers.threads(), 2u);
}

TEST(WorkerThreads, ABurstThatComesBackWhileItsWorkersAreParkedStartsNoThread) {
  Workers workers(1, 64, WorkerThreads::kParkMs);
  std::size_t afterFirst = 0;
  for (int burst = 0; burst < 2; ++burst) {
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 20; ++i) clients.push_back(workers.connect());
    for (auto& client : clients) EXPECT_EQ(echoOf(*client, "b"), "echo : b\n");
    // The first burst: a worker each, the one started up front too if it had not parked yet.
    if (burst == 0) afterFirst = workers.threads();
    EXPECT_GE(workers.threads(), 20u);
    EXPECT_EQ(workers.threads(), afterFirst) << "burst " << burst;
    clients.clear();
    ASSERT_TRUE(eventually([&] { return workers.registry().counts().parked == afterFirst; }));
  }
}

/// The size of `path`'s static TLS block (its PT_TLS segment's memory size), 0 without one.
std::uint64_t staticTlsBytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  Elf64_Ehdr header{};
  file.read(reinterpret_cast<char*>(&header), sizeof header);
  EXPECT_TRUE(file && std::string(reinterpret_cast<const char*>(header.e_ident), 4) == ELFMAG) << path;
  for (int i = 0; file && i < header.e_phnum; ++i) {
    Elf64_Phdr segment{};
    file.seekg(static_cast<std::streamoff>(header.e_phoff + static_cast<std::uint64_t>(i) * header.e_phentsize));
    file.read(reinterpret_cast<char*>(&segment), sizeof segment);
    if (file && segment.p_type == PT_TLS) return segment.p_memsz;
  }
  return 0;
}

// glibc zeroes a thread's static TLS block as it creates the thread, so every
// worker start pays for what is thread_local in echo-server, drawing or not:
// two std::mt19937_64 (5 KiB) made each worker touch five stack pages instead
// of three, and C10K's peak RSS 232 MiB instead of 152 (docs/architecture.md).
TEST(WorkerThreads, AWorkersStaticTlsStaysAFractionOfAPage) {
  const std::uint64_t bytes = staticTlsBytes(ECHO_SERVER_PATH);
  EXPECT_GT(bytes, 0u);  // there is some (the TLS handshake's per-thread results): the reading works
  EXPECT_LE(bytes, 1024u) << "echo-server's static TLS grew to " << bytes << " bytes: what became thread_local?";
}

}  // namespace
}  // namespace echod
