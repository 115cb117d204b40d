#pragma once

#include <Poco/AutoPtr.h>

#include <string>

#include "service/logging/StderrChannel.h"

namespace echod {

/// Sends every logger to standard error (StderrChannel) at `level`, as text
/// or one JSON object per line (JsonLogFormatter). The caller closes the
/// returned channel before exiting (it buffers `information`): LogFlush.
Poco::AutoPtr<StderrChannel> setUpLogging(const std::string& level, bool json);

/// Writes what the log still buffers when it goes out of scope, whichever way main() returns.
class LogFlush {
 public:
  explicit LogFlush(Poco::AutoPtr<StderrChannel> channel) : _channel(std::move(channel)) {}
  ~LogFlush() { _channel->close(); }
  LogFlush(const LogFlush&) = delete;
  LogFlush& operator=(const LogFlush&) = delete;

 private:
  Poco::AutoPtr<StderrChannel> _channel;
};

}  // namespace echod
