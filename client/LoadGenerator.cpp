#include "client/LoadGenerator.h"

#include <Poco/Exception.h>
#include <Poco/Format.h>
#include <Poco/Thread.h>

#include <unistd.h>

#include <cstring>
#include <deque>
#include <iostream>
#include <memory>
#include <vector>

#include "client/ServerConnector.h"
#include "protocol/LineFramer.h"
#include "protocol/Replies.h"

namespace echod {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kThreadStack = 256 * 1024;
constexpr std::size_t kReadSize = 64 * 1024;
constexpr std::size_t kSequenceDigits = 8;

std::uint64_t nanosSince(Clock::time_point then) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - then).count());
}

/// Message `seq`: its sequence number in hex up front (so a reply out of order
/// or from another connection fails), then a fixed filler.
class Payload {
 public:
  explicit Payload(std::size_t size) : _filler(size, 'x') {
    for (std::size_t i = 0; i < size; ++i) _filler[i] = static_cast<char>('a' + i % 26);
  }
  void appendLine(std::uint64_t seq, std::string& out) const {
    const std::size_t start = out.size();
    out.append(_filler);
    writeSequence(seq, &out[start]);
    out.push_back('\n');
  }
  bool matches(std::uint64_t seq, std::string_view body) const {
    if (body.size() != _filler.size()) return false;
    char head[kSequenceDigits];
    std::memcpy(head, _filler.data(), std::min(kSequenceDigits, _filler.size()));
    writeSequence(seq, head);
    const std::size_t n = std::min(kSequenceDigits, _filler.size());
    return std::memcmp(body.data(), head, n) == 0 &&
           std::memcmp(body.data() + n, _filler.data() + n, _filler.size() - n) == 0;
  }

 private:
  void writeSequence(std::uint64_t seq, char* at) const {
    static constexpr char kHex[] = "0123456789abcdef";
    const std::size_t n = std::min(kSequenceDigits, _filler.size());
    for (std::size_t i = 0; i < n; ++i) at[n - 1 - i] = kHex[(seq >> (4 * i)) & 0xF];
  }
  std::string _filler;
};

}  // namespace

struct LoadGenerator::Worker {
  int id = 0;
  std::uint64_t messages = 0;
  std::uint64_t errors = 0;
  std::string error;
  LatencyHistogram latency;
  Poco::Thread thread;

  void fail(const std::string& what) {
    ++errors;
    if (error.empty()) error = Poco::format("connection %d: %s", id, what);
  }
};

void LoadGenerator::waitForStart() {
  std::unique_lock<std::mutex> lock(_mutex);
  ++_ready;
  _changed.notify_all();
  _changed.wait(lock, [this] { return _started; });
}

bool LoadGenerator::timeIsUp(std::uint64_t sent) const {
  if (_settings.messagesPerConnection > 0 && sent >= static_cast<std::uint64_t>(_settings.messagesPerConnection)) {
    return true;
  }
  return _settings.duration.totalMicroseconds() > 0 && Clock::now() >= _end;
}

void LoadGenerator::pingPong(Worker& worker) {
  std::unique_ptr<Poco::Net::StreamSocket> socket;
  try {
    socket =
        std::make_unique<Poco::Net::StreamSocket>(connectToServer(_settings.host, _settings.port, _settings.timeout));
    socket->setReceiveTimeout(_settings.timeout);
  } catch (const Poco::Exception& e) {
    worker.fail("connect: " + e.displayText());
  }
  waitForStart();
  if (!socket) return;

  const std::size_t size = static_cast<std::size_t>(_settings.size);
  const auto pipeline = static_cast<std::uint64_t>(_settings.pipeline);
  const Payload payload(size);
  const std::string& prefix = _settings.prefix;
  LineFramer framer(prefix.size() + size + 64);
  std::vector<Clock::time_point> sentAt(pipeline);
  std::vector<char> buffer(kReadSize);
  std::string out;
  out.reserve(pipeline * (size + 1) + 8);
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  bool sending = true;
  try {
    const auto fill = [&](std::uint64_t count) {
      const auto now = Clock::now();
      for (std::uint64_t i = 0; i < count && sending; ++i) {
        if (timeIsUp(sent)) {
          sending = false;
          break;
        }
        payload.appendLine(sent, out);
        sentAt[sent % pipeline] = now;
        ++sent;
      }
      if (!out.empty()) sendAll(*socket, out);
      out.clear();
    };
    fill(pipeline);
    bool wrong = false;
    while (received < sent && !wrong) {
      const int n = socket->receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) {
        worker.fail(Poco::format("server closed after %Lu of %Lu replies", received, sent));
        return;
      }
      std::uint64_t done = 0;
      framer.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), [&](std::string_view line) {
        const bool ok = line.size() == prefix.size() + size && line.substr(0, prefix.size()) == prefix &&
                        payload.matches(received, line.substr(prefix.size()));
        if (!ok) {
          worker.fail(Poco::format("reply %Lu is wrong: '%s'", received, std::string(line.substr(0, 80))));
          wrong = true;
          return false;
        }
        worker.latency.record(nanosSince(sentAt[received % pipeline]));
        ++received;
        ++done;
        return true;
      });
      if (framer.lineTooLong()) worker.fail("reply line too long");
      if (framer.lineTooLong() || wrong) return;
      worker.messages += done;
      _progress.fetch_add(done, std::memory_order_relaxed);
      fill(done);
    }
    // Leave as the protocol says, and check the server agrees.
    sendAll(*socket, "exit\n");
    std::string bye;
    while (bye.size() < kFinLine.size()) {
      const int n = socket->receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) break;
      bye.append(buffer.data(), static_cast<std::size_t>(n));
    }
    if (bye != kFinLine) worker.fail("exit was not answered with FIN");
  } catch (const Poco::Exception& e) {
    worker.fail(Poco::format("after %Lu replies: %s", received, e.displayText()));
  }
}

void LoadGenerator::connectStorm(Worker& worker) {
  waitForStart();
  const Payload payload(static_cast<std::size_t>(_settings.size));
  std::string script;
  payload.appendLine(0, script);
  script.append("exit\n");
  std::string expected = _settings.prefix;
  payload.appendLine(0, expected);
  expected.append(kFinLine);
  std::vector<char> buffer(kReadSize);
  for (std::uint64_t done = 0; !timeIsUp(done); ++done) {
    const auto begin = Clock::now();
    try {
      auto socket = connectToServer(_settings.host, _settings.port, _settings.timeout);
      socket.setReceiveTimeout(_settings.timeout);
      sendAll(socket, script);
      std::string reply;
      while (reply.size() < expected.size()) {
        const int n = socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
        if (n <= 0) break;
        reply.append(buffer.data(), static_cast<std::size_t>(n));
      }
      if (reply != expected) {
        worker.fail("connect workload: wrong reply '" + reply.substr(0, 80) + "'");
        return;
      }
    } catch (const Poco::Exception& e) {
      worker.fail("connect workload: " + e.displayText());
      return;
    }
    worker.latency.record(nanosSince(begin));
    ++worker.messages;
    _progress.fetch_add(1, std::memory_order_relaxed);
  }
}

BenchResult LoadGenerator::run() {
  const int count = _settings.connections;
  std::vector<std::unique_ptr<Worker>> workers;
  workers.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->id = i;
    worker->thread.setStackSize(kThreadStack);
    Worker* w = worker.get();
    workers.push_back(std::move(worker));
    w->thread.startFunc([this, w] {
      if (_settings.connectStorm) {
        connectStorm(*w);
      } else {
        pingPong(*w);
      }
      std::lock_guard<std::mutex> lock(_mutex);
      ++_finished;
      _changed.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(_mutex);
    _changed.wait(lock, [&] { return _ready == count; });
    _start = Clock::now();
    _end = _start + std::chrono::microseconds(_settings.duration.totalMicroseconds());
    _started = true;
  }
  _changed.notify_all();

  const bool live = ::isatty(STDERR_FILENO) == 1;
  {
    std::unique_lock<std::mutex> lock(_mutex);
    while (!_changed.wait_for(lock, std::chrono::seconds(1), [&] { return _finished == count; })) {
      if (!live) continue;
      const double elapsed = std::chrono::duration<double>(Clock::now() - _start).count();
      std::cerr << Poco::format("\r%6.1f s  %Lu messages  %.0f msg/s   ", elapsed,
                                static_cast<Poco::UInt64>(_progress.load()), _progress.load() / elapsed)
                << std::flush;
    }
  }
  if (live) std::cerr << '\n';
  BenchResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - _start).count();
  result.connections = count;
  for (auto& worker : workers) {
    worker->thread.join();
    result.messages += worker->messages;
    result.errors += worker->errors;
    result.latency.merge(worker->latency);
    if (result.firstError.empty()) result.firstError = worker->error;
  }
  result.payloadBytes = result.messages * static_cast<std::uint64_t>(_settings.size);
  return result;
}

std::string BenchResult::text() const {
  const auto us = [this](double p) { return static_cast<double>(latency.percentile(p)) / 1000.0; };
  std::string text = Poco::format(
      "connections %d  messages %Lu  errors %Lu  time %.2f s\n"
      "throughput  %.0f msg/s  %.2f MB/s\n"
      "latency us  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
      connections, static_cast<Poco::UInt64>(messages), static_cast<Poco::UInt64>(errors), seconds, messagesPerSecond(),
      megabytesPerSecond(), us(0.5), us(0.9), us(0.99), us(0.999), static_cast<double>(latency.max()) / 1000.0);
  if (!firstError.empty()) text += "first error: " + firstError + "\n";
  return text;
}

std::string BenchResult::json() const {
  const auto us = [this](double p) { return static_cast<double>(latency.percentile(p)) / 1000.0; };
  std::string escaped;
  for (const char c : firstError) {
    if (c == '"' || c == '\\') escaped += '\\';
    if (static_cast<unsigned char>(c) < 32) continue;
    escaped += c;
  }
  return Poco::format(
      "{\"connections\":%d,\"messages\":%Lu,\"errors\":%Lu,\"seconds\":%.3f,\"messages_per_second\":%.1f,"
      "\"megabytes_per_second\":%.3f,\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
      "\"max\":%.1f},\"first_error\":\"%s\"}\n",
      connections, static_cast<Poco::UInt64>(messages), static_cast<Poco::UInt64>(errors), seconds, messagesPerSecond(),
      megabytesPerSecond(), us(0.5), us(0.9), us(0.99), us(0.999), static_cast<double>(latency.max()) / 1000.0,
      escaped);
}

}  // namespace echod
