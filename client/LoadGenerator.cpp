#include "client/LoadGenerator.h"

#include <Poco/Exception.h>
#include <Poco/Format.h>
#include <Poco/Net/NetException.h>
#include <Poco/Thread.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "client/BenchPayload.h"
#include "client/Pacer.h"
#include "client/ServerConnector.h"
#include "protocol/Replies.h"
#include "protocol/ReplyReader.h"

namespace echod {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kThreadStack = 256 * 1024;
constexpr std::size_t kReadSize = 64 * 1024;

std::uint64_t nanosSince(Clock::time_point then) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - then).count());
}

}  // namespace

struct LoadGenerator::Worker {
  int id = 0;
  std::uint64_t messages = 0;
  std::uint64_t sent = 0;  ///< messages sent on finished connections (--messages)
  BenchResult::Disruption disruption;
  std::uint64_t errors = 0;
  std::string error;
  LatencyHistogram latency;
  Pacer pacer;  ///< --rate: this connection's turns
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

namespace {

/// One read from `socket` into the reader. False when the server closed;
/// throws on a reset or when no byte came within the receive timeout.
template <typename OnReply>
bool readReplies(Poco::Net::StreamSocket& socket, ReplyReader& reader, std::vector<char>& buffer, OnReply&& onReply) {
  const int n = socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
  if (n <= 0) {
    reader.finish(onReply);
    return false;
  }
  reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), onReply);
  return true;
}

/// Says `exit` the way the framing does and checks that FIN comes back.
void leave(Poco::Net::StreamSocket& socket, ReplyReader& reader, Framing framing, std::vector<char>& buffer) {
  sendAll(socket, framing == Framing::Raw ? std::string(kExitMessage) : std::string(kExitMessage) + "\n");
  while (reader.end() == ReplyReader::End::Open &&
         readReplies(socket, reader, buffer, [](const Reply&) { return true; })) {
  }
  if (reader.end() != ReplyReader::End::Fin) throw Poco::ProtocolException("exit was not answered with FIN");
}

}  // namespace

void LoadGenerator::pingPong(Worker& worker) {
  std::unique_ptr<Poco::Net::StreamSocket> socket;
  try {
    socket = std::make_unique<Poco::Net::StreamSocket>(_connector.connect());
    socket->setReceiveTimeout(_settings.timeout);
    _connected.fetch_add(1, std::memory_order_relaxed);
  } catch (const Poco::Exception& e) {
    if (!_settings.reconnect) worker.fail("connect: " + e.displayText());
    ++worker.disruption.refused;
  }
  waitForStart();
  if (!_settings.reconnect) {
    if (!socket) return;
    const auto broken = session(worker, *socket);
    if (broken && broken->reason != Broken::kWrongReply) worker.fail(broken->what);
    return;
  }
  // --reconnect: a connection that ends is opened again until the time is up;
  // only a wrong reply is an error.
  auto brokenAt = Clock::now();
  for (;;) {
    if (socket) {
      const auto broken = session(worker, *socket);
      socket.reset();
      if (!broken || broken->reason == Broken::kWrongReply) return;
      ++worker.disruption.broken[broken->reason];
      brokenAt = Clock::now();
    }
    if (timeIsUp(0)) return;
    try {
      socket = std::make_unique<Poco::Net::StreamSocket>(_connector.connect());
      socket->setReceiveTimeout(_settings.timeout);
      ++worker.disruption.reconnects;
      worker.disruption.longestWithoutConnectionMs =
          std::max(worker.disruption.longestWithoutConnectionMs, static_cast<double>(nanosSince(brokenAt)) / 1e6);
    } catch (const Poco::Exception&) {
      ++worker.disruption.refused;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // no busy loop against a closed port
    }
  }
}

std::optional<LoadGenerator::Broken> LoadGenerator::session(Worker& worker, Poco::Net::StreamSocket& socket) {
  const bool raw = _settings.framing == Framing::Raw;  // then the pipeline is 1 (ClientSettings)
  const std::size_t size = static_cast<std::size_t>(_settings.size);
  const auto pipeline = static_cast<std::uint64_t>(_settings.pipeline);
  const BenchPayload payload(size);
  ReplyReader reader(_settings.framing, _settings.prefix, _settings.prefix.size() + size + 64);
  std::vector<Clock::time_point> sentAt(pipeline);
  std::vector<char> buffer(kReadSize);
  std::string out;
  out.reserve(pipeline * (size + 1) + 8);
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint64_t sentBefore = worker.sent;  // --messages counts a connection's messages
  bool sending = true;
  try {
    const auto fill = [&](std::uint64_t count) {
      worker.pacer.wait(count);
      const auto now = Clock::now();
      for (std::uint64_t i = 0; i < count && sending; ++i) {
        if (timeIsUp(sentBefore + sent)) {
          sending = false;
          break;
        }
        const std::size_t start = out.size();
        payload.append(sent, out);
        if (raw) reader.expect(std::string_view(out).substr(start));
        if (!raw) out.push_back('\n');
        sentAt[sent % pipeline] = now;
        ++sent;
      }
      if (!out.empty()) sendAll(socket, out);
      out.clear();
    };
    fill(pipeline);
    bool wrong = false;
    while (received < sent && !wrong) {
      std::uint64_t done = 0;
      const bool open = readReplies(socket, reader, buffer, [&](const Reply& reply) {
        if (reply.kind == Reply::Kind::Fin || reply.kind == Reply::Kind::Error) return false;  // the end, below
        if (reply.kind != Reply::Kind::Echo || !payload.matches(received, reply.text)) {
          worker.fail(Poco::format("reply %Lu is wrong: '%s'", received, std::string(reply.bytes.substr(0, 80))));
          wrong = true;
          return false;
        }
        worker.latency.record(nanosSince(sentAt[received % pipeline]));
        ++received;
        ++done;
        return true;
      });
      worker.messages += done;
      _progress.fetch_add(done, std::memory_order_relaxed);
      if (wrong) return Broken{Broken::kWrongReply, ""};
      if (!open || reader.end() != ReplyReader::End::Open) {
        const auto end = reader.end();
        const int reason = end == ReplyReader::End::Fin     ? BenchResult::Disruption::Fin
                           : end == ReplyReader::End::Error ? BenchResult::Disruption::Err
                                                            : BenchResult::Disruption::Closed;
        std::string what = Poco::format("server closed after %Lu of %Lu replies", received, sent);
        if (end == ReplyReader::End::Error) what += " (ERR " + reader.errorReason() + ")";
        return Broken{reason, what};
      }
      fill(done);
    }
    worker.sent = sentBefore + sent;
    leave(socket, reader, _settings.framing, buffer);  // as the protocol says, and the server agrees
  } catch (const Poco::TimeoutException& e) {
    return Broken{BenchResult::Disruption::Timeout, Poco::format("after %Lu replies: %s", received, e.displayText())};
  } catch (const Poco::Net::ConnectionResetException& e) {
    return Broken{BenchResult::Disruption::Reset, Poco::format("after %Lu replies: %s", received, e.displayText())};
  } catch (const Poco::Exception& e) {
    return Broken{BenchResult::Disruption::Closed, Poco::format("after %Lu replies: %s", received, e.displayText())};
  }
  return std::nullopt;
}

void LoadGenerator::connectStorm(Worker& worker) {
  waitForStart();
  const bool raw = _settings.framing == Framing::Raw;
  const BenchPayload payload(static_cast<std::size_t>(_settings.size));
  std::string message;
  payload.append(0, message);
  const std::string lineAndExit = message + "\nexit\n";
  std::vector<char> buffer(kReadSize);
  for (std::uint64_t done = 0; !timeIsUp(done); ++done) {
    worker.pacer.wait();
    if (timeIsUp(done)) break;
    const auto begin = Clock::now();
    try {
      // Line framing: the message and `exit` in one write, the connection's first (behind a PROXY header, if any).
      auto socket = _connector.connect(raw ? std::string_view() : std::string_view(lineAndExit));
      socket.setReceiveTimeout(_settings.timeout);
      ReplyReader reader(_settings.framing, _settings.prefix, _settings.prefix.size() + message.size() + 64);
      bool echoed = false;
      const auto check = [&](const Reply& reply) {
        if (reply.kind != Reply::Kind::Fin) echoed = reply.kind == Reply::Kind::Echo && reply.text == message;
        return true;
      };
      if (raw) {  // raw framing: the echo must be back before `exit`, or the two could merge
        reader.expect(message);
        sendAll(socket, message);
        while (!echoed && reader.end() == ReplyReader::End::Open && readReplies(socket, reader, buffer, check)) {
        }
        if (echoed) leave(socket, reader, _settings.framing, buffer);
      } else {  // line framing: already sent
        while (reader.end() == ReplyReader::End::Open && readReplies(socket, reader, buffer, check)) {
        }
      }
      if (!echoed || reader.end() != ReplyReader::End::Fin) {
        worker.fail("connect workload: the message was not echoed, then FIN");
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
    const bool timed = _settings.duration.totalMicroseconds() > 0;
    for (auto& worker : workers) {
      worker->pacer = Pacer(_settings.rate, count, worker->id, _start, timed ? std::optional(_end) : std::nullopt);
    }
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
    if (_settings.reconnect) {
      if (!result.disruption) result.disruption.emplace();
      result.disruption->merge(worker->disruption);
    }
    if (result.firstError.empty()) result.firstError = worker->error;
  }
  result.payloadBytes = result.messages * static_cast<std::uint64_t>(_settings.size);
  if (_connector.tls()) {
    // Connect workload: every session is one handshake, inside the timed run.
    result.handshakesTimed = _settings.connectStorm;
    result.handshakes = _settings.connectStorm ? result.messages : _connected.load();
  }
  return result;
}

}  // namespace echod
