#include "service/connection/WorkerThreads.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <utility>

#include "service/connection/EchoWorker.h"
#include "service/connection/WorkerScheduling.h"

namespace echod {

WorkerThreads::Worker::Worker(WorkerThreads& o, int stackSize) : owner(o), thread("echo-worker") {
  thread.setStackSize(stackSize);
}

WorkerThreads::WorkerThreads(const ConnectionContext& context, int stackSize, std::int64_t parkMs)
    : _context(context), _stackSize(stackSize), _parkMs(parkMs) {}

WorkerThreads::~WorkerThreads() { stop(); }

void WorkerThreads::start(std::size_t initial) {
  _starter.startFunc([this] { runStarter(); });
  _started = true;
  for (std::size_t i = 0; i < initial; ++i) {
    if (!startWorker()) throw Poco::SystemException("the system refused a worker thread (echo.minThreads)");
  }
}

void WorkerThreads::request() {
  {
    std::lock_guard<std::mutex> lock(_mutex);
    ++_requested;
  }
  _wake.notify_one();
}

bool WorkerThreads::startWorker() {
  std::list<Worker>::iterator worker;
  {
    std::lock_guard<std::mutex> lock(_mutex);
    worker = _running.emplace(_running.end(), *this, _stackSize);
    worker->self = worker;
  }
  _threads.fetch_add(1, std::memory_order_relaxed);
  try {
    worker->thread.start(*worker);
    return true;
  } catch (const Poco::Exception&) {
    _threads.fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(_mutex);
    _running.erase(worker);
    return false;
  }
}

void WorkerThreads::runStarter() {
  std::unique_lock<std::mutex> lock(_mutex);
  for (;;) {
    _wake.wait(lock, [this] { return _stopping || _requested > 0 || !_left.empty(); });
    std::list<Worker> left;
    left.swap(_left);
    const std::size_t requested = _stopping ? 0 : std::exchange(_requested, 0);
    const bool stopping = _stopping;
    lock.unlock();
    join(left);
    std::size_t refused = 0;
    for (std::size_t i = 0; i < requested; ++i) {
      if (startWorker()) continue;
      // No thread for it: the connection it was for, if no worker is on its
      // way to it, hears so at once rather than at the queue timeout.
      const std::size_t now = _context.registry.workerNotStarted();
      refused += now;
      _context.metrics.count(_context.metrics.threadStartFailures, now);
      _context.metrics.count(_context.metrics.refused[ConnectionMetrics::slot(ErrorReason::ServerBusy)], now);
    }
    if (const std::size_t lately = _startRefusals.count(refused); lately > 0) {
      Poco::Logger::get("echod.server")
          .warning("the system refused a new worker thread: %z queued connection(s) got ERR server busy", lately);
    }
    if (stopping) return;
    lock.lock();
  }
}

void WorkerThreads::work(Worker& me) {
  Poco::Net::StreamSocket next;
  bool arriving = true;
  while (ConnectionSlot* slot = _context.registry.park(next, _parkMs, arriving)) {
    // Once per thread, when it first serves: a worker that never did runs nothing to schedule.
    if (arriving) applyWorkerScheduling(_context.options.workerScheduling);
    arriving = false;
    EchoWorker(next, *slot, _context).run();
  }
  {
    std::lock_guard<std::mutex> lock(_mutex);
    _left.splice(_left.end(), _running, me.self);
  }
  _wake.notify_one();
}

void WorkerThreads::join(std::list<Worker>& left) {
  for (Worker& worker : left) {
    // Joined even once run() returned: POCO's thread still signals its
    // done-event after that, and must not outlive the object.
    worker.thread.join();
    _threads.fetch_sub(1, std::memory_order_relaxed);
  }
  left.clear();
}

void WorkerThreads::stop() {
  if (!_started) return;
  _started = false;
  {
    std::lock_guard<std::mutex> lock(_mutex);
    _stopping = true;
  }
  _wake.notify_one();
  _starter.join();
  // Only workers change the lists now: each leaves once the registry drained.
  std::unique_lock<std::mutex> lock(_mutex);
  while (!_running.empty() || !_left.empty()) {
    _wake.wait(lock, [this] { return !_left.empty(); });
    std::list<Worker> left;
    left.swap(_left);
    lock.unlock();
    join(left);
    lock.lock();
  }
}

}  // namespace echod
