#pragma once

#include <Poco/Pipe.h>
#include <Poco/Process.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace echod::test {

/// A built binary run as a child process, its stdout and stderr collected
/// by two reader threads, with waits that end at a deadline.
class ChildProcess {
 public:
  ChildProcess(const std::string& path, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env = {});
  ~ChildProcess();

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void writeStdin(const std::string& bytes);
  void closeStdin();
  void signal(int sig);
  /// Waits until stderr holds `text`; false at the deadline.
  bool waitForStderr(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Waits until stdout holds `text`; false at the deadline.
  bool waitForStdout(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Waits until stderr has a whole line containing `marker`; returns the rest of that line after it.
  std::optional<std::string> waitForStderrLine(const std::string& marker,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// The exit status, or nothing if it still runs at the deadline.
  std::optional<int> waitForExit(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::string out() const;
  std::string err() const;
  int pid() const { return _handle->id(); }

 private:
  void collect(Poco::Pipe& pipe, std::string& into);
  bool waitFor(const std::string& text, const std::string& stream, std::chrono::milliseconds timeout);

  Poco::Pipe _in;
  Poco::Pipe _out;
  Poco::Pipe _err;
  std::unique_ptr<Poco::ProcessHandle> _handle;
  std::optional<int> _status;
  mutable std::mutex _mutex;
  std::condition_variable _changed;
  std::string _stdout;
  std::string _stderr;
  int _streamsOpen = 2;  ///< readers not yet at end of file
  std::thread _outReader;
  std::thread _errReader;
};

/// echo-server as a child on a free port: waits for its "listening on" line.
/// A `launcher` runs it, e.g. {"prlimit", "--nofile=3000:3000", "--"}: the
/// server's path and arguments follow the launcher's own.
class ServerProcess : public ChildProcess {
 public:
  explicit ServerProcess(std::vector<std::string> args, const std::map<std::string, std::string>& env = {},
                         const std::vector<std::string>& launcher = {});
  std::uint16_t port() const { return _port; }

 private:
  std::uint16_t _port = 0;
};

}  // namespace echod::test
