#include "ChildProcess.h"

#include <Poco/PipeStream.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>

namespace echod::test {

ChildProcess::ChildProcess(const std::string& path, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env) {
  Poco::Process::Env environment(env.begin(), env.end());
  _handle = std::make_unique<Poco::ProcessHandle>(Poco::Process::launch(path, args, &_in, &_out, &_err, environment));
  _outReader = std::thread([this] { collect(_out, _stdout); });
  _errReader = std::thread([this] { collect(_err, _stderr); });
}

ChildProcess::~ChildProcess() {
  if (!waitForExit(std::chrono::milliseconds(0))) {
    signal(SIGKILL);
    waitForExit(std::chrono::seconds(10));
  }
  closeStdin();
  _outReader.join();
  _errReader.join();
}

void ChildProcess::collect(Poco::Pipe& pipe, std::string& into) {
  char buffer[4096];
  for (;;) {
    const int n = pipe.readBytes(buffer, sizeof buffer);
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(_mutex);
    into.append(buffer, static_cast<std::size_t>(n));
    _changed.notify_all();
  }
  std::lock_guard<std::mutex> lock(_mutex);
  --_streamsOpen;
  _changed.notify_all();
}

void ChildProcess::writeStdin(const std::string& bytes) {
  _in.writeBytes(bytes.data(), static_cast<int>(bytes.size()));
}

void ChildProcess::closeStdin() { _in.close(Poco::Pipe::CLOSE_WRITE); }

void ChildProcess::signal(int sig) { ::kill(_handle->id(), sig); }

bool ChildProcess::waitFor(const std::string& text, const std::string& stream, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(_mutex);
  return _changed.wait_for(lock, timeout, [&] { return stream.find(text) != std::string::npos; });
}

bool ChildProcess::waitForStderr(const std::string& text, std::chrono::milliseconds timeout) {
  return waitFor(text, _stderr, timeout);
}

bool ChildProcess::waitForStdout(const std::string& text, std::chrono::milliseconds timeout) {
  return waitFor(text, _stdout, timeout);
}

std::optional<std::string> ChildProcess::waitForStderrLine(const std::string& marker,
                                                           std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(_mutex);
  std::optional<std::string> rest;
  _changed.wait_for(lock, timeout, [&] {
    const auto at = _stderr.find(marker);
    if (at == std::string::npos) return false;
    const auto end = _stderr.find('\n', at);
    if (end == std::string::npos) return false;
    rest = _stderr.substr(at + marker.size(), end - at - marker.size());
    return true;
  });
  return rest;
}

std::optional<int> ChildProcess::waitForExit(std::chrono::milliseconds timeout) {
  if (_status) return _status;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const int status = _handle->tryWait();
    if (status != -1) {
      _status = status;
      // Everything it wrote is read before anyone looks at out() or err().
      std::unique_lock<std::mutex> lock(_mutex);
      _changed.wait_until(lock, deadline + std::chrono::seconds(5), [this] { return _streamsOpen == 0; });
      return _status;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // waitpid has no timeout: look again shortly (the condition, not a guess at ordering).
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string ChildProcess::out() const {
  std::lock_guard<std::mutex> lock(_mutex);
  return _stdout;
}

std::string ChildProcess::err() const {
  std::lock_guard<std::mutex> lock(_mutex);
  return _stderr;
}

ServerProcess::ServerProcess(std::vector<std::string> args, const std::map<std::string, std::string>& env,
                             const std::vector<std::string>& launcher)
    : ChildProcess(
          launcher.empty() ? std::string(ECHO_SERVER_PATH) : launcher.front(),
          [&] {
            args.insert(args.begin(), "--host=127.0.0.1");
            // No admin endpoint unless asked for: parallel tests would all want 9090.
            if (std::none_of(args.begin(), args.end(),
                             [](const std::string& a) { return a.rfind("--admin-port", 0) == 0; })) {
              args.insert(args.begin(), "--admin-port=0");
            }
            args.insert(args.begin(), "--port=0");
            if (!launcher.empty()) {
              args.insert(args.begin(), ECHO_SERVER_PATH);
              args.insert(args.begin(), launcher.begin() + 1, launcher.end());
            }
            return args;
          }(),
          env) {
  const auto address = waitForStderrLine("listening on ");  // e.g. "127.0.0.1:40123"
  const auto colon = address ? address->rfind(':') : std::string::npos;
  if (colon == std::string::npos) {
    ADD_FAILURE() << "echo-server did not log its port; stderr:\n" << err();
    return;
  }
  _port = static_cast<std::uint16_t>(std::stoi(address->substr(colon + 1)));
}

}  // namespace echod::test
