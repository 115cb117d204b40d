#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Formatter.h>
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
///
/// Given a formatter, the channel formats each line itself (POCO's
/// formatter, into one string sized for a line) and appends it. POCO's
/// FormattingChannel in front of it copied every Message and grew the line
/// as the formatter appended to it: about five allocations a line, now one.
class StderrChannel : public Poco::Channel {
 public:
  static constexpr std::size_t kBufferBytes = 64 * 1024;
  static constexpr std::chrono::milliseconds kFlushEvery{50};
  /// What a formatted line is given before the formatter writes it: a
  /// connection's line with its timestamp fits, longer ones grow once or twice.
  static constexpr std::size_t kLineBytes = 256;

  explicit StderrChannel(int fd = STDERR_FILENO, std::chrono::milliseconds flushEvery = kFlushEvery,
                         Poco::AutoPtr<Poco::Formatter> format = {});

  void log(const Poco::Message& msg) override;
  /// Writes what is buffered and stops the flusher; later lines are written at once.
  void close() override;

 protected:
  ~StderrChannel() override;

 private:
  void stop();  ///< close(), also from the destructor
  void flushLoop();
  void writeLocked();  ///< the buffer, now; a line a failed write cannot take is dropped

  /// Appends one line and its newline; writes or wakes the flusher as its priority says.
  void append(const std::string& text, Poco::Message::Priority priority);

  const int _fd;
  const std::chrono::milliseconds _flushEvery;
  Poco::AutoPtr<Poco::Formatter> _format;  ///< set once, at construction; none: the message's text is the line
  std::mutex _mutex;
  std::condition_variable _wake;  ///< the buffer got its first line, or close()
  std::string _buffer;            ///< guarded by _mutex
  bool _closed = false;           ///< guarded by _mutex
  std::thread _flusher;
};

}  // namespace echod
