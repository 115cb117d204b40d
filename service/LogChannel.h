#pragma once

#include <Poco/Channel.h>
#include <Poco/Message.h>

#include <mutex>

namespace echod {

/// Writes each log line to standard error in one write(2), newline included.
/// POCO's ConsoleChannel streams the text and the newline to std::clog
/// separately, two system calls per line (std::clog is unbuffered here), and
/// holds its lock across both: at `information`, two lines per connection.
/// A line that a failed write cannot take is dropped.
class StderrChannel : public Poco::Channel {
 public:
  void log(const Poco::Message& msg) override;

 protected:
  ~StderrChannel() override = default;

 private:
  std::mutex _mutex;  ///< taken by lines longer than PIPE_BUF, whose write may be split
};

}  // namespace echod
