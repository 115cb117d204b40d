#include "service/logging/StderrChannel.h"

#include <cerrno>
#include <utility>

namespace echod {

StderrChannel::StderrChannel(int fd, std::chrono::milliseconds flushEvery, Poco::AutoPtr<Poco::Formatter> format)
    : _fd(fd), _flushEvery(flushEvery), _format(std::move(format)), _flusher([this] { flushLoop(); }) {}

StderrChannel::~StderrChannel() { stop(); }

void StderrChannel::log(const Poco::Message& msg) {
  if (!_format) return append(msg.getText(), msg.getPriority());
  // Formatted outside the lock: workers on other cores format at once.
  std::string line;
  line.reserve(kLineBytes);
  _format->format(msg, line);
  append(line, msg.getPriority());
}

void StderrChannel::append(const std::string& text, Poco::Message::Priority priority) {
  std::lock_guard<std::mutex> lock(_mutex);
  const bool wasEmpty = _buffer.empty();
  _buffer.append(text).push_back('\n');
  if (priority <= Poco::Message::PRIO_NOTICE || _closed || _buffer.size() >= kBufferBytes) {
    writeLocked();
  } else if (wasEmpty) {
    _wake.notify_one();
  }
}

void StderrChannel::close() { stop(); }

void StderrChannel::stop() {
  {
    std::lock_guard<std::mutex> lock(_mutex);
    _closed = true;
    writeLocked();
  }
  _wake.notify_one();
  if (_flusher.joinable()) _flusher.join();
}

void StderrChannel::flushLoop() {
  std::unique_lock<std::mutex> lock(_mutex);
  while (!_closed) {
    _wake.wait(lock, [this] { return _closed || !_buffer.empty(); });
    // Lines gather for a while, then leave in one write.
    _wake.wait_for(lock, _flushEvery, [this] { return _closed; });
    writeLocked();
  }
}

void StderrChannel::writeLocked() {
  // Bounded: each pass writes at least one byte or ends.
  for (std::size_t done = 0; done < _buffer.size();) {
    const ssize_t n = ::write(_fd, _buffer.data() + done, _buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // a closed or broken stderr (SIGPIPE is ignored): the lines are lost
    done += static_cast<std::size_t>(n);
  }
  _buffer.clear();
}

}  // namespace echod
