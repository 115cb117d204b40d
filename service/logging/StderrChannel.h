#pragma once

#include <Poco/Channel.h>
#include <Poco/Message.h>

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

namespace echod {

/// The server's log output: formatted lines to standard error.
///
/// Lines at `notice` and above (start-up, shutdown, refusals, errors) are
/// written at once, together with anything buffered before them. Lines at
/// `information` and below (each connection's open and close) are
/// buffered, and written by a flusher thread within `flushEvery` (50 ms), or
/// at once when the buffer reaches kBufferBytes: a write(2) per line was the
/// largest cost of a short connection after the kernel's own TCP work. Order
/// is kept. close() writes what is left and joins the flusher; a process
/// killed outright loses at most the last `flushEvery` of `information`.
/// POCO's ConsoleChannel instead made two system calls per line (the text,
/// then the newline, through unbuffered std::clog) under its lock.
class StderrChannel : public Poco::Channel {
 public:
  static constexpr std::size_t kBufferBytes = 64 * 1024;

  explicit StderrChannel(int fd = STDERR_FILENO, std::chrono::milliseconds flushEvery = std::chrono::milliseconds(50));

  void log(const Poco::Message& msg) override;
  /// Writes what is buffered and stops the flusher; later lines are written at once.
  void close() override;

 protected:
  ~StderrChannel() override;

 private:
  void stop();  ///< close(), also from the destructor
  void flushLoop();
  void writeLocked();  ///< the buffer, now; a line a failed write cannot take is dropped

  const int _fd;
  const std::chrono::milliseconds _flushEvery;
  std::mutex _mutex;
  std::condition_variable _wake;  ///< the buffer got its first line, or close()
  std::string _buffer;            ///< guarded by _mutex
  bool _closed = false;           ///< guarded by _mutex
  std::thread _flusher;
};

}  // namespace echod
