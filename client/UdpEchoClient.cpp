#include "client/UdpEchoClient.h"

#include <Poco/Exception.h>
#include <Poco/Format.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Random.h>
#include <Poco/Stopwatch.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "client/BenchPayload.h"
#include "client/Pacer.h"
#include "protocol/UdpEcho.h"

namespace echod {
namespace {

using Clock = std::chrono::steady_clock;

/// A socket connected to the server: it hears from the server alone.
Poco::Net::DatagramSocket connectedTo(const Poco::Net::SocketAddress& server) {
  Poco::Net::DatagramSocket socket(server.family());
  socket.connect(server);
  return socket;
}

/// The next datagram within `timeout`, in `buffer` (one per socket, kept
/// between calls); false when none came (or the port is closed: ICMP refused).
bool receive(Poco::Net::DatagramSocket& socket, const Poco::Timespan& timeout, std::string& buffer) {
  if (timeout.totalMicroseconds() <= 0 || !socket.poll(timeout, Poco::Net::Socket::SELECT_READ)) return false;
  buffer.resize(kUdpMaxPayload + 1);
  try {
    const int n = socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
    buffer.resize(static_cast<std::size_t>(std::max(n, 0)));
  } catch (const Poco::Exception&) {
    return false;  // ECONNREFUSED: nothing listens on that UDP port
  }
  return true;
}

void sendDatagram(Poco::Net::DatagramSocket& socket, std::string_view datagram) {
  socket.sendBytes(datagram.data(), static_cast<int>(datagram.size()));
}

Poco::Timespan left(const Poco::Stopwatch& clock, const Poco::Timespan& timeout) {
  return Poco::Timespan(std::max<Poco::Timespan::TimeDiff>(0, timeout.totalMicroseconds() - clock.elapsed()));
}

}  // namespace

UdpEchoClient::UdpEchoClient(const ClientSettings& settings)
    : _settings(settings), _server(settings.host, settings.port) {}

std::string UdpEchoClient::target() const { return _settings.host + ":" + std::to_string(_settings.port) + " (UDP)"; }

int UdpEchoClient::send() {
  auto socket = connectedTo(_server);
  for (const auto& message : _settings.messages) sendDatagram(socket, message);
  std::size_t answered = 0;
  std::string reply;
  // Each reply awaited at most the timeout.
  while (answered < _settings.messages.size() && receive(socket, _settings.timeout, reply)) {
    std::cout << reply << '\n' << std::flush;
    ++answered;
  }
  if (answered == _settings.messages.size()) return 0;
  std::cerr << "echo-client: " << _settings.messages.size() - answered << " of " << _settings.messages.size()
            << " datagram(s) got no reply from " << target() << " within " << _settings.timeout.totalMilliseconds()
            << " ms\n";
  return 1;
}

bool UdpEchoClient::check(std::string& report) {
  Poco::Stopwatch clock;
  clock.start();
  Poco::Random random;
  random.seed();
  const std::string token = Poco::format("check-%08x%08x", random.next(), random.next());
  const std::string expected = _settings.prefix + token;
  try {
    auto socket = connectedTo(_server);
    // Three tries within the timeout: one lost datagram is UDP, not a sick server.
    const Poco::Timespan each(_settings.timeout.totalMicroseconds() / 3);
    for (int attempt = 1; attempt <= 3; ++attempt) {
      sendDatagram(socket, token);
      Poco::Stopwatch waited;
      waited.start();
      std::string reply;
      while (receive(socket, left(waited, each), reply)) {
        if (reply == expected) {
          report = Poco::format("ok: %s echoed %z bytes in %.1f ms (try %d)", target(), token.size(),
                                static_cast<double>(clock.elapsed()) / 1000.0, attempt);
          return true;
        }
        if (reply.find(token) == std::string::npos) continue;  // a late reply to nothing of ours
        report = "fail: " + target() + " answered '" + reply.substr(0, 80) + "', expected '" + expected + "'";
        return false;
      }
    }
    report = Poco::format("fail: %s: no reply to 3 datagrams within %.1f s", target(),
                          static_cast<double>(_settings.timeout.totalMicroseconds()) / 1e6);
  } catch (const Poco::Exception& e) {
    report = "fail: " + target() + ": " + e.displayText();
  }
  return false;
}

int UdpEchoClient::who() {
  auto socket = connectedTo(_server);
  sendDatagram(socket, _settings.whoCommand);
  std::string reply;
  if (!receive(socket, _settings.timeout, reply)) {
    std::cerr << "echo-client: no reply from " << target() << " within " << _settings.timeout.totalMilliseconds()
              << " ms\n";
    return 1;
  }
  try {
    Poco::JSON::Parser().parse(reply);
  } catch (const Poco::Exception&) {
    std::cerr << "echo-client: the answer to '" << _settings.whoCommand << "' is not JSON: " << reply.substr(0, 80)
              << " (is echo.whoCommand set on the server?)\n";
    return 1;
  }
  std::cout << reply << '\n';
  return 0;
}

BenchResult UdpEchoClient::bench() {
  struct Worker {
    std::uint64_t sent = 0, received = 0, lost = 0, late = 0, wrong = 0;
    LatencyHistogram latency;
    std::string error;
  };
  const int count = _settings.connections;
  std::vector<Worker> workers(static_cast<std::size_t>(count));
  const BenchPayload payload(static_cast<std::size_t>(_settings.size));
  const auto start = Clock::now();
  const auto end = start + std::chrono::microseconds(_settings.duration.totalMicroseconds());
  const bool timed = _settings.duration.totalMicroseconds() > 0;
  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  for (int id = 0; id < count; ++id) {
    threads.emplace_back([&, id] {
      Worker& w = workers[static_cast<std::size_t>(id)];
      try {
        auto socket = connectedTo(_server);
        std::string message;
        std::string reply;  // one buffer for every reply of this socket
        Pacer pacer(_settings.rate, count, id, start, timed ? std::optional(end) : std::nullopt);
        const auto over = [&](std::uint64_t seq) {
          return timed ? Clock::now() >= end : seq >= static_cast<std::uint64_t>(_settings.messagesPerConnection);
        };
        for (std::uint64_t seq = 0; !over(seq); ++seq) {
          pacer.wait();
          if (over(seq)) break;
          message.clear();
          payload.append(seq, message);
          const auto sentAt = Clock::now();
          sendDatagram(socket, message);
          ++w.sent;
          // One in flight: wait for this one's reply; an older one arriving late is counted, not matched.
          const auto deadline = sentAt + std::chrono::microseconds(_settings.timeout.totalMicroseconds());
          bool answered = false;
          while (!answered) {
            const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
            if (!receive(socket, Poco::Timespan(std::max<std::int64_t>(0, wait.count())), reply)) break;
            const bool prefixed = reply.compare(0, _settings.prefix.size(), _settings.prefix) == 0;
            const std::string_view body =
                std::string_view(reply).substr(std::min(reply.size(), _settings.prefix.size()));
            if (prefixed && payload.matches(seq, body)) {
              answered = true;
            } else if (prefixed && body.size() == message.size()) {
              ++w.late;
            } else {
              ++w.wrong;
              if (w.error.empty()) w.error = Poco::format("connection %d: wrong reply '%s'", id, reply.substr(0, 80));
              break;
            }
          }
          if (!answered) {
            if (w.wrong > 0) break;
            ++w.lost;
            continue;
          }
          w.latency.record(static_cast<std::uint64_t>(
              std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - sentAt).count()));
          ++w.received;
        }
      } catch (const Poco::Exception& e) {
        ++w.wrong;
        if (w.error.empty()) w.error = Poco::format("connection %d: %s", id, e.displayText());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BenchResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.connections = count;
  BenchResult::Udp udp;
  for (const auto& w : workers) {
    result.messages += w.received;
    result.errors += w.wrong;
    result.latency.merge(w.latency);
    if (result.firstError.empty()) result.firstError = w.error;
    udp.sent += w.sent;
    udp.lost += w.lost;
    udp.late += w.late;
  }
  result.payloadBytes = result.messages * static_cast<std::uint64_t>(_settings.size);
  result.udp = udp;
  return result;
}

}  // namespace echod
