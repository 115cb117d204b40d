#include "service/connection/LingeringCloses.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "service/connection/SocketEndings.h"

namespace echod {

LingeringCloses::~LingeringCloses() { closeAll(); }

bool LingeringCloses::adopt(int fd, std::int64_t deadlineMs, std::size_t byteBudget) {
  std::lock_guard<std::mutex> lock(_mutex);
  if (_count >= _capacity) return false;
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return false;
  _adopted.push_back(Entry{copy, deadlineMs, byteBudget});
  ++_count;
  return true;
}

std::size_t LingeringCloses::sweep(std::int64_t nowMs) {
  {
    std::lock_guard<std::mutex> lock(_mutex);
    _lingering.insert(_lingering.end(), _adopted.begin(), _adopted.end());
    _adopted.clear();
  }
  if (_lingering.empty()) return 0;
  _ready.resize(_lingering.size());
  for (std::size_t i = 0; i < _lingering.size(); ++i) _ready[i] = pollfd{_lingering[i].fd, POLLIN, 0};
  if (::poll(_ready.data(), _ready.size(), 0) < 0) return 0;  // EINTR or ENOMEM: next tick
  std::size_t closed = 0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < _lingering.size(); ++i) {
    Entry& entry = _lingering[i];
    const bool done = (_ready[i].revents != 0 && discardArrived(entry.fd, entry.budget, _sink.data(), _sink.size())) ||
                      nowMs >= entry.deadlineMs;
    if (done) {
      ::close(entry.fd);
      ++closed;
    } else {
      _lingering[kept++] = entry;
    }
  }
  _lingering.resize(kept);
  std::lock_guard<std::mutex> lock(_mutex);
  _count -= closed;
  if (_count == 0) _emptied.notify_all();
  return closed;
}

bool LingeringCloses::waitUntilEmpty(std::int64_t timeoutMs) {
  std::unique_lock<std::mutex> lock(_mutex);
  return _emptied.wait_for(lock, std::chrono::milliseconds(timeoutMs), [this] { return _count == 0; });
}

void LingeringCloses::closeAll() {
  std::lock_guard<std::mutex> lock(_mutex);
  for (const auto* list : {&_adopted, &_lingering}) {
    for (const Entry& entry : *list) ::close(entry.fd);
  }
  _adopted.clear();
  _lingering.clear();
  _count = 0;
}

std::size_t LingeringCloses::size() const {
  std::lock_guard<std::mutex> lock(_mutex);
  return _count;
}

}  // namespace echod
