#pragma once

#include <Poco/Runnable.h>
#include <Poco/Thread.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>

#include "service/connection/ConnectionContext.h"
#include "service/logging/LogThrottle.h"

namespace echod {

/// The worker threads: how they are started, kept and joined. The
/// registry's hand-off (WorkerHandOff) decides how many there are; this
/// starts the one it asks for on a thread of its own, the starter, so that
/// the acceptor never waits for a thread to be created, and a start costs
/// one pthread_create(3) however many workers exist (POCO's ThreadPool
/// scans every pooled thread, under its lock, for each one it hands out).
///
/// A worker parks in the registry, serves the connection it is given (an
/// EchoWorker, POCO's TCPServerConnection, on this thread), and parks again.
/// Parked kParkMs without a connection, it leaves while more than the
/// minimum are left, the coldest first (a parked worker is handed the next
/// connection most-recently-parked first): a burst that comes again within a
/// minute finds its workers parked. At the drain every worker leaves. The
/// starter joins the workers that left; stop() joins the starter, then
/// every worker.
class WorkerThreads {
 public:
  /// How long a parked worker waits for a connection before it may leave.
  static constexpr std::int64_t kParkMs = 60000;

  /// `parkMs`: how long a parked worker waits before it may leave (tests shorten it).
  WorkerThreads(const ConnectionContext& context, int stackSize, std::int64_t parkMs = kParkMs);
  /// Joins everything (stop()).
  ~WorkerThreads();

  WorkerThreads(const WorkerThreads&) = delete;
  WorkerThreads& operator=(const WorkerThreads&) = delete;

  /// Starts the starter, then `initial` workers (the minimum, which the
  /// registry counts from its construction) on this thread. Throws
  /// Poco::SystemException when the system refuses a thread.
  void start(std::size_t initial);

  /// One more worker, for a connection admit() queued (Admission::startWorker).
  /// Acceptor thread, after the registry's lock: it never waits for the thread.
  void request();

  /// Worker threads now started and not yet joined.
  std::size_t threads() const noexcept { return _threads.load(std::memory_order_relaxed); }

  /// After the drain: stops the starter, then joins every worker (each
  /// leaves once the registry drains). Idempotent.
  void stop();

 private:
  /// One worker thread and its place in the lists.
  struct Worker : Poco::Runnable {
    Worker(WorkerThreads& owner, int stackSize);
    void run() override { owner.work(*this); }
    WorkerThreads& owner;
    Poco::Thread thread;
    std::list<Worker>::iterator self;
  };

  /// The starter's loop: start what was requested, join what left.
  void runStarter();
  /// Starts one worker; false when the system refused the thread.
  bool startWorker();
  /// A worker's life: park, serve, park again, until the registry says leave.
  void work(Worker& me);
  /// Joins and frees workers that left (starter, or stop()).
  void join(std::list<Worker>& left);

  const ConnectionContext& _context;
  const int _stackSize;
  const std::int64_t _parkMs;
  std::mutex _mutex;              ///< guards the lists and the requests; never held across a start or a join
  std::condition_variable _wake;  ///< the starter's (and stop()'s): a request, a worker that left, the stop
  std::list<Worker> _running;     ///< started workers that have not left
  std::list<Worker> _left;        ///< workers that left, to be joined
  std::size_t _requested = 0;     ///< starts asked for and not yet made
  bool _stopping = false;
  std::atomic<std::size_t> _threads{0};
  Poco::Thread _starter{"worker-starter"};
  bool _started = false;       ///< start() and stop() are called by the owner's thread only
  LogThrottle _startRefusals;  ///< the starter's only
};

}  // namespace echod
