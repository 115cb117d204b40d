// The UDP load generator of bench/: one epoll loop, --sockets connected UDP
// sockets, each a closed loop of --window datagrams in flight, refilled as
// replies come; batched both ways (recvmmsg, sendmmsg), so that the server,
// not this, runs out of CPU first. Each datagram carries its send time and a
// sequence number; a reply is checked to the byte (the prefix, then the
// datagram). A socket that hears nothing for 200 ms counts what it had in
// flight as lost and sends a fresh window. After --duration it waits 200 ms
// for late replies; loss = sent - answered.
//
//   udp-load --port=P [--host=127.0.0.1] [--sockets=8] [--window=8] [--size=16] [--duration=5]
//
// Prints the JSON line of `echo-client --bench --json` (with "udp"). Bounded
// by --duration plus the 200 ms grace.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "client/BenchResult.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBatch = 32;
constexpr std::size_t kHeader = 32;  ///< send time (16 hex digits) and sequence (16 hex digits)
const std::string kPrefix = "echo : ";
constexpr auto kStall = std::chrono::milliseconds(200);

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int sockets = 8;
  int window = 8;
  std::size_t size = 16;
  double duration = 5;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "udp-load: " << problem << "\n"
            << "usage: udp-load --port=P [--host=ADDR] [--sockets=N] [--window=N] [--size=B] [--duration=S]\n";
  std::exit(64);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) usage("unknown argument " + arg);
    const std::string name = arg.substr(2, eq - 2);
    const std::string value = arg.substr(eq + 1);
    const double v = std::strtod(value.c_str(), nullptr);
    if (name == "host") {
      o.host = value;
    } else if (name == "port" && v >= 1 && v <= 65535) {
      o.port = static_cast<int>(v);
    } else if (name == "sockets" && v >= 1 && v <= 1024) {
      o.sockets = static_cast<int>(v);
    } else if (name == "window" && v >= 1 && v <= kBatch) {
      o.window = static_cast<int>(v);
    } else if (name == "size" && v >= kHeader && v <= 65000) {
      o.size = static_cast<std::size_t>(v);
    } else if (name == "size" && v >= 1 && v < kHeader) {
      o.size = kHeader;  // the smallest datagram that carries its send time and sequence
    } else if (name == "duration" && v >= 0.01 && v <= 3600) {
      o.duration = v;
    } else {
      usage("bad option " + arg);
    }
  }
  if (o.port == 0) usage("--port is required");
  return o;
}

std::uint64_t nowNs() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

void writeHex(std::uint64_t value, char* at) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, value >>= 4) at[i] = kHex[value & 0xF];
}

bool readHex(const char* at, std::uint64_t& value) {
  value = 0;
  for (int i = 0; i < 16; ++i) {
    const char c = at[i];
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return false;
    value = (value << 4) | static_cast<std::uint64_t>(digit);
  }
  return true;
}

struct Flow {
  int fd = -1;
  std::uint64_t nextSeq = 0;
  int inFlight = 0;
  Clock::time_point lastHeard;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<std::uint16_t>(o.port));
  if (::inet_pton(AF_INET, o.host.c_str(), &server.sin_addr) != 1) usage("--host must be an IPv4 address");

  const int epoll = ::epoll_create1(0);
  std::vector<Flow> flows(static_cast<std::size_t>(o.sockets));
  for (std::size_t i = 0; i < flows.size(); ++i) {
    Flow& f = flows[i];
    f.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (f.fd < 0 || ::connect(f.fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
      std::cerr << "udp-load: socket: " << std::strerror(errno) << "\n";
      return 1;
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, f.fd, &event);
  }

  // Outgoing: one template per batch slot (filler, then the header written per send).
  std::vector<std::string> outgoing(kBatch, std::string(o.size, 'x'));
  for (auto& datagram : outgoing) {
    for (std::size_t i = kHeader; i < o.size; ++i) datagram[i] = static_cast<char>('a' + i % 26);
  }
  std::array<mmsghdr, kBatch> out{};
  std::array<iovec, kBatch> outIov{};
  const std::size_t replySize = kPrefix.size() + o.size;
  std::vector<char> inBuffers(static_cast<std::size_t>(kBatch) * (replySize + 1));
  std::array<mmsghdr, kBatch> in{};
  std::array<iovec, kBatch> inIov{};

  echod::BenchResult result;
  echod::BenchResult::Udp udp;
  const auto send = [&](Flow& f, int count) {
    for (int i = 0; i < count; ++i) {
      std::string& d = outgoing[static_cast<std::size_t>(i)];
      writeHex(nowNs(), &d[0]);
      writeHex(f.nextSeq++, &d[16]);
      outIov[static_cast<std::size_t>(i)] = {d.data(), d.size()};
      out[static_cast<std::size_t>(i)].msg_hdr = {};
      out[static_cast<std::size_t>(i)].msg_hdr.msg_iov = &outIov[static_cast<std::size_t>(i)];
      out[static_cast<std::size_t>(i)].msg_hdr.msg_iovlen = 1;
    }
    int sent = 0;
    while (sent < count) {
      const int r = ::sendmmsg(f.fd, out.data() + sent, static_cast<unsigned>(count - sent), 0);
      if (r <= 0) break;  // a full buffer: the rest counts as never sent
      sent += r;
    }
    f.inFlight += sent;
    udp.sent += static_cast<std::uint64_t>(sent);
  };

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  const auto last = end + kStall;
  for (Flow& f : flows) {
    f.lastHeard = start;
    send(f, o.window);
  }
  std::array<epoll_event, 64> events{};
  for (auto now = Clock::now(); now < last; now = Clock::now()) {
    const bool sending = now < end;
    const int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 10);
    for (int e = 0; e < n; ++e) {
      Flow& f = flows[events[static_cast<std::size_t>(e)].data.u64];
      for (int i = 0; i < kBatch; ++i) {
        inIov[static_cast<std::size_t>(i)] = {inBuffers.data() + static_cast<std::size_t>(i) * (replySize + 1),
                                              replySize + 1};
        in[static_cast<std::size_t>(i)].msg_hdr = {};
        in[static_cast<std::size_t>(i)].msg_hdr.msg_iov = &inIov[static_cast<std::size_t>(i)];
        in[static_cast<std::size_t>(i)].msg_hdr.msg_iovlen = 1;
      }
      const int got = ::recvmmsg(f.fd, in.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (got <= 0) continue;
      const std::uint64_t at = nowNs();
      int answered = 0;
      for (int i = 0; i < got; ++i) {
        const char* reply = static_cast<const char*>(inIov[static_cast<std::size_t>(i)].iov_base);
        const std::size_t length = in[static_cast<std::size_t>(i)].msg_len;
        std::uint64_t sentAt = 0;
        std::uint64_t seq = 0;
        const bool right =
            length == replySize && std::memcmp(reply, kPrefix.data(), kPrefix.size()) == 0 &&
            readHex(reply + kPrefix.size(), sentAt) && readHex(reply + kPrefix.size() + 16, seq) &&
            std::memcmp(reply + kPrefix.size() + kHeader, outgoing[0].data() + kHeader, o.size - kHeader) == 0;
        if (!right) {
          ++result.errors;
          if (result.firstError.empty()) result.firstError = "a wrong reply of " + std::to_string(length) + " bytes";
          continue;
        }
        result.latency.record(at - sentAt);
        ++answered;
      }
      result.messages += static_cast<std::uint64_t>(answered);
      f.inFlight = std::max(0, f.inFlight - answered);
      f.lastHeard = Clock::now();
      if (sending && answered > 0) send(f, std::min(answered, o.window - f.inFlight));
    }
    if (!sending) continue;
    for (Flow& f : flows) {
      if (now - f.lastHeard < kStall) continue;
      f.inFlight = 0;  // what it had in flight is lost (counted at the end: sent - answered)
      f.lastHeard = now;
      send(f, o.window);
    }
  }
  result.seconds = o.duration;
  result.connections = o.sockets;
  result.payloadBytes = result.messages * o.size;
  udp.lost = udp.sent > result.messages ? udp.sent - result.messages : 0;
  result.udp = udp;
  std::cout << result.json();
  for (Flow& f : flows) ::close(f.fd);
  ::close(epoll);
  return result.errors == 0 && result.messages > 0 ? 0 : 1;
}
