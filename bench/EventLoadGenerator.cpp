// The second load generator of bench/: one epoll event loop per thread (by
// default one thread), many non-blocking connections, each a closed loop of
// --pipeline lines in flight, every reply checked to the byte. Where
// `echo-client --bench` spends a thread per connection (and with it a
// context switch per reply), this one spends next to nothing per reply, so
// the server, not the load generator, is what runs out of CPU first.
//
//   event-load --port=P [--host=127.0.0.1] [--connections=100] [--size=16]
//              [--pipeline=1] [--duration=5] [--timeout=5] [--threads=1]
//              [--workload=pingpong|connect|burst] [--server-pid=PID]
//              [--server-cpus=LIST]
//
// Ping-pong is timed from the moment every connection has had a reply (its
// set-up bounded by --timeout), so that each server is measured at the
// concurrency asked for: a server slow to take connections would otherwise
// be measured serving fewer. Until then each connection has one round trip
// (its first --pipeline lines) and waits. Prints the same JSON line as `echo-client
// --bench --json`, plus answered_connections and setup_seconds (from the
// first connect until every connection had a reply). Every run is bounded
// by --timeout plus --duration (plus --timeout for a stuck reply).
//
// --workload=burst: every connection is opened at once (non-blocking
// connects, one after another as fast as the loop goes), each sends one line
// as soon as it is connected, and the run ends when every connection has had
// its echo (or at --duration). It prints its own JSON line: the time until
// all were echoed, each connection's first echo (from the start of its
// connect) at p50/p99/max, and with --server-pid the server's CPU time (user
// plus system, its process CPU clock) over the burst, read before the first connect
// and once the last echo arrived, before any connection closes.
//
// --server-cpus=LIST (taskset's form: 0, 8-15, 0,2): where the server is
// pinned. Read at the same moments as --server-pid's CPU, the busy time of
// those CPUs (the time that passed, less their idle, iowait and steal time in
// /proc/stat) is printed as server_cpus_busy_ms: everything that ran there,
// which also counts what the kernel does for the server on kernel threads
// (ksoftirqd, a dead thread's teardown) that the process's own CPU time does
// not. Only meaningful while nothing else runs on those CPUs.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <Poco/JSONString.h>

#include "client/BenchResult.h"
#include "protocol/ReplyReader.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kSequenceDigits = 16;
constexpr std::size_t kReadSize = 64 * 1024;
constexpr int kMaxEvents = 256;
const std::string kPrefix = "echo : ";

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 100;
  std::size_t size = 16;
  int pipeline = 1;
  double duration = 5;
  double timeout = 5;
  int threads = 1;
  bool connectStorm = false;
  bool burst = false;
  int serverPid = 0;
  std::vector<int> serverCpus;  ///< --server-cpus
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "event-load: " << problem << "\n"
            << "usage: event-load --port=P [--host=ADDR] [--connections=N] [--size=B] [--pipeline=N]"
               " [--duration=S] [--timeout=S] [--threads=N] [--workload=pingpong|connect|burst] [--server-pid=PID]"
               " [--server-cpus=LIST]\n";
  std::exit(64);
}

double number(const std::string& name, const std::string& value, double min, double max) {
  try {
    std::size_t used = 0;
    const double v = std::stod(value, &used);
    if (used == value.size() && v >= min && v <= max) return v;
  } catch (const std::exception&) {
  }
  usage("--" + name + "=" + value + ": expected a number from " + std::to_string(min) + " to " + std::to_string(max));
}

/// A taskset CPU list ("0", "8-15", "0,2-3") as CPU numbers.
std::vector<int> cpuList(const std::string& text) {
  std::vector<int> cpus;
  std::istringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto dash = item.find('-');
    const int first = static_cast<int>(number("server-cpus", item.substr(0, dash), 0, 4095));
    const int last =
        dash == std::string::npos ? first : static_cast<int>(number("server-cpus", item.substr(dash + 1), first, 4095));
    for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
  }
  if (cpus.empty()) usage("--server-cpus=" + text + ": expected a CPU list such as 0 or 8-15");
  return cpus;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) usage("unknown argument " + arg);
    const std::string name = arg.substr(2, eq - 2);
    const std::string value = arg.substr(eq + 1);
    if (name == "host") {
      o.host = value;
    } else if (name == "port") {
      o.port = static_cast<int>(number(name, value, 1, 65535));
    } else if (name == "connections") {
      o.connections = static_cast<int>(number(name, value, 1, 100000));
    } else if (name == "size") {
      o.size = static_cast<std::size_t>(number(name, value, 1, 1 << 20));
    } else if (name == "pipeline") {
      o.pipeline = static_cast<int>(number(name, value, 1, 4096));
    } else if (name == "duration") {
      o.duration = number(name, value, 0.01, 3600);
    } else if (name == "timeout") {
      o.timeout = number(name, value, 0.01, 600);
    } else if (name == "threads") {
      o.threads = static_cast<int>(number(name, value, 1, 64));
    } else if (name == "workload") {
      if (value != "pingpong" && value != "connect" && value != "burst") {
        usage("--workload=" + value + ": expected pingpong, connect or burst");
      }
      o.connectStorm = value == "connect";
      o.burst = value == "burst";
    } else if (name == "server-pid") {
      o.serverPid = static_cast<int>(number(name, value, 1, 1 << 30));
    } else if (name == "server-cpus") {
      o.serverCpus = cpuList(value);
    } else {
      usage("unknown option --" + name);
    }
  }
  if (o.port == 0) usage("--port is required");
  return o;
}

/// Line `seq` of a connection: its sequence number in hex, then filler, then '\n'.
void appendLine(std::uint64_t seq, std::size_t size, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::size_t start = out.size();
  for (std::size_t i = 0; i < size; ++i) out.push_back(static_cast<char>('a' + i % 26));
  const std::size_t digits = std::min(kSequenceDigits, size);
  for (std::size_t i = 0; i < digits; ++i) out[start + digits - 1 - i] = kHex[(seq >> (4 * i)) & 0xF];
  out.push_back('\n');
}

/// The server's CPU at one moment, in seconds: its process's (user +
/// system, with --server-pid) and its CPUs' busy time (with --server-cpus).
struct ServerCpu {
  double process = 0;
  double cpus = 0;
  ServerCpu operator-(const ServerCpu& earlier) const { return {process - earlier.process, cpus - earlier.cpus}; }
};
ServerCpu readServerCpu(const Options& options);

/// Ping-pong's timed window begins for every loop at once, when the last of
/// them has had a reply on each of its connections; the server's CPU is read
/// then.
struct WindowStart {
  WindowStart(int loops, const Options& options) : loops(loops), options(options) {}
  /// A loop's connections have all had a reply (or failed): the last one opens the window.
  void warmed() {
    if (++ready == loops) {
      serverCpu = readServerCpu(options);
      open.store(true, std::memory_order_release);
    }
  }
  bool isOpen() const { return open.load(std::memory_order_acquire); }
  const int loops;
  const Options& options;
  std::atomic<int> ready{0};
  std::atomic<bool> open{false};
  ServerCpu serverCpu;  ///< at the window's start, written before `open`
};

struct Connection {
  int fd = -1;
  std::uint64_t sent = 0;                    ///< lines written (ping-pong)
  std::uint64_t answered = 0;                ///< replies verified
  std::string out;                           ///< bytes not yet accepted by the kernel
  std::optional<echod::ReplyReader> reader;  ///< decodes replies (the protocol core's client half)
  bool echoed = false;                       ///< connect workload: the session's echo arrived
  std::vector<Clock::time_point> sentAt;     ///< ring of --pipeline send times
  Clock::time_point progress;                ///< last time a byte arrived or a session began
  bool connecting = false;                   ///< connect workload: waiting for connect() to finish
};

/// One event loop over its share of the connections.
class Loop {
 public:
  Loop(const Options& options, const sockaddr_storage& address, socklen_t addressSize, int count, WindowStart& window)
      : _o(options),
        _address(address),
        _addressSize(addressSize),
        _connections(static_cast<std::size_t>(count)),
        _window(window) {
    _epoll = ::epoll_create1(EPOLL_CLOEXEC);
    const std::size_t replySize = kPrefix.size() + _o.size + 1;
    _expected.reserve(replySize);
    for (auto& c : _connections) c.sentAt.resize(static_cast<std::size_t>(_o.pipeline));
  }
  ~Loop() {
    for (auto& c : _connections) closeConnection(c);
    if (_epoll >= 0) ::close(_epoll);
  }

  /// Connections that had at least one reply (ping-pong): a server that left
  /// some waiting the whole run shows here, not in its rate.
  std::size_t answeredConnections() const { return _answeredConnections; }
  /// Ping-pong: from the first connect until every connection had a reply.
  double setupSeconds() const { return _setupSeconds; }

  echod::BenchResult run(Clock::time_point start, Clock::time_point end) {
    _end = end;
    // Ping-pong is timed from when every connection has had a reply: the set-up
    // of many connections (and a server slow to take them) is not in the rate,
    // and every server is measured at the concurrency asked for. Until then a
    // connection that had its reply sends nothing more, so the set-up runs on
    // an otherwise idle server. It is bounded by --timeout: a connection
    // unanswered by then is an error.
    _warming = !_o.connectStorm && !_o.burst;
    const auto window = end - start;
    if (_warming) {
      _end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(_o.timeout)) +
             std::chrono::seconds(1);
    }
    auto windowStart = start;
    for (auto& c : _connections) {
      if (_o.connectStorm) {
        beginSession(c);
      } else if (_o.burst) {
        beginBurst(c);
      } else if (openConnection(c, false)) {
        c.reader.emplace(echod::Framing::Line, kPrefix, kPrefix.size() + _o.size + 64);
        fillPipeline(c);
      }
    }
    _result.connections = static_cast<int>(_connections.size());
    std::vector<char> buffer(kReadSize);
    epoll_event events[kMaxEvents];
    while (Clock::now() < _end && _live > 0 && !(_o.burst && _echoed + _result.errors == _connections.size())) {
      const int n = ::epoll_wait(_epoll, events, kMaxEvents, 50);
      for (int i = 0; i < n; ++i) {
        auto& c = _connections[events[i].data.u32];
        if (c.fd < 0) continue;
        if (c.connecting) {
          finishConnect(c);
        } else {
          if (events[i].events & EPOLLOUT) flushOut(c);
          if (c.fd >= 0 && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) readFrom(c, buffer);
        }
      }
      if (Clock::now() >= _nextTimeoutCheck) checkTimeouts();
      if (_warming && !_warmed && _firstReplies + _result.errors >= _connections.size()) {
        _warmed = true;
        _window.warmed();
      }
      if (_warming && _warmed && _window.isOpen()) {
        _warming = false;
        windowStart = Clock::now();
        _end = windowStart + window;
        for (auto& c : _connections) {
          if (c.fd >= 0) fillPipeline(c);
        }
      }
    }
    _result.seconds =
        _warming
            ? 0
            : std::chrono::duration<double>(std::min(_o.burst ? _lastEcho : Clock::now(), _end) - windowStart).count();
    _setupSeconds = std::chrono::duration<double>(windowStart - start).count();
    for (const auto& c : _connections) _answeredConnections += c.answered > 0 ? 1 : 0;
    return _result;
  }

 private:
  bool openConnection(Connection& c, bool nonBlockingConnect) {
    c.fd = ::socket(_address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | (nonBlockingConnect ? SOCK_NONBLOCK : 0), 0);
    if (c.fd < 0) return fail(c, std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&_address), _addressSize);
    if (rc != 0 && !(nonBlockingConnect && errno == EINPROGRESS)) {
      return fail(c, std::string("connect: ") + std::strerror(errno));
    }
    if (!nonBlockingConnect && ::fcntl(c.fd, F_SETFL, O_NONBLOCK) != 0) {
      return fail(c, std::string("fcntl: ") + std::strerror(errno));
    }
    c.connecting = nonBlockingConnect && rc != 0;
    epoll_event ev{};
    ev.events = c.connecting ? EPOLLOUT : EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(&c - _connections.data());
    ::epoll_ctl(_epoll, EPOLL_CTL_ADD, c.fd, &ev);
    c.progress = Clock::now();
    ++_live;
    return true;
  }

  void closeConnection(Connection& c) {
    if (c.fd < 0) return;
    ::close(c.fd);  // also leaves the epoll set
    c.fd = -1;
    --_live;
  }

  bool fail(Connection& c, const std::string& what) {
    ++_result.errors;
    if (_result.firstError.empty()) _result.firstError = what;
    closeConnection(c);
    return false;
  }

  // Ping-pong: keep --pipeline lines in flight.
  void fillPipeline(Connection& c) {
    const auto now = Clock::now();
    while (c.sent - c.answered < static_cast<std::uint64_t>(_o.pipeline)) {
      c.sentAt[c.sent % c.sentAt.size()] = now;
      appendLine(c.sent++, _o.size, c.out);
    }
    flushOut(c);
  }

  void flushOut(Connection& c) {
    while (!c.out.empty()) {
      const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) break;
        fail(c, std::string("send: ") + std::strerror(errno));
        return;
      }
      c.out.erase(0, static_cast<std::size_t>(n));
    }
    epoll_event ev{};
    ev.events = c.out.empty() ? EPOLLIN : (EPOLLIN | EPOLLOUT);
    ev.data.u32 = static_cast<std::uint32_t>(&c - _connections.data());
    ::epoll_ctl(_epoll, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void readFrom(Connection& c, std::vector<char>& buffer) {
    const ssize_t n = ::recv(c.fd, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno != EAGAIN) fail(c, std::string("recv: ") + std::strerror(errno));
      return;
    }
    c.progress = Clock::now();
    if (_o.connectStorm) {
      const auto check = [&](const echod::Reply& r) {
        if (r.kind != echod::Reply::Kind::Fin) c.echoed = r.kind == echod::Reply::Kind::Echo && r.text == _message;
        return true;
      };
      if (n == 0) {
        c.reader->finish(check);
        return endSession(c);
      }
      c.reader->feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), check);
      return;
    }
    if (n == 0) {
      fail(c, "server closed the connection");
      return;
    }
    const auto now = Clock::now();
    if (_o.burst) return burstReply(c, std::string_view(buffer.data(), static_cast<std::size_t>(n)), now);
    std::string wrong;
    c.reader->feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), [&](const echod::Reply& r) {
      _expected.clear();
      appendLine(c.answered, _o.size, _expected);
      _expected.pop_back();  // the '\n'
      if (r.kind != echod::Reply::Kind::Echo || r.text != _expected) {
        wrong.assign(r.bytes.substr(0, 80));
        return false;
      }
      if (c.answered == 0) ++_firstReplies;
      if (!_warming && now < _end) {
        _result.latency.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.sentAt[c.answered % c.sentAt.size()])
                .count()));
        ++_result.messages;
        _result.payloadBytes += _o.size + 1;
      }
      ++c.answered;
      return true;
    });
    if (!wrong.empty() || c.reader->end() != echod::ReplyReader::End::Open) {
      fail(c, "wrong reply '" + wrong + "'");
      return;
    }
    if (now < _end && !_warming) fillPipeline(c);
  }

  // Connect workload: connect, one line and `exit` in one write, the echo and
  // FIN back, the server's close; then the next session on the same slot.
  void beginSession(Connection& c) {
    if (_sessionScript.empty()) {
      appendLine(0, _o.size, _sessionScript);
      _sessionScript += "exit\n";
      _message = _sessionScript.substr(0, _o.size);
    }
    c.reader.emplace(echod::Framing::Line, kPrefix, kPrefix.size() + _o.size + 64);
    c.echoed = false;
    c.sentAt[0] = Clock::now();
    if (!openConnection(c, true)) return;
    if (!c.connecting) startScript(c);
  }

  void finishConnect(Connection& c) {
    int error = 0;
    socklen_t size = sizeof error;
    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) {
      fail(c, std::string("connect: ") + std::strerror(error));
      return;
    }
    c.connecting = false;
    startScript(c);
  }

  void startScript(Connection& c) {
    c.out = _sessionScript;
    flushOut(c);
  }

  void endSession(Connection& c) {
    if (!c.echoed || c.reader->end() != echod::ReplyReader::End::Fin) {
      fail(c, "connect workload: the line was not echoed, then FIN");
      return;
    }
    const auto now = Clock::now();
    if (now < _end) {
      ++_result.messages;
      _result.latency.record(
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.sentAt[0]).count()));
    }
    closeConnection(c);
    if (now < _end) beginSession(c);
  }

  // Burst workload: connect, one line, its echo; the connection then stays
  // open, silent, until the run ends.
  void beginBurst(Connection& c) {
    if (_sessionScript.empty()) {
      appendLine(0, _o.size, _sessionScript);
      _message = _sessionScript.substr(0, _o.size);
    }
    c.reader.emplace(echod::Framing::Line, kPrefix, kPrefix.size() + _o.size + 64);
    c.sentAt[0] = Clock::now();
    if (!openConnection(c, true)) return;
    if (!c.connecting) startScript(c);
  }

  void burstReply(Connection& c, std::string_view bytes, Clock::time_point now) {
    bool wrong = false;
    c.reader->feed(bytes, [&](const echod::Reply& r) {
      wrong = c.echoed || r.kind != echod::Reply::Kind::Echo || r.text != _message;
      if (!wrong) c.echoed = true;
      return !wrong;
    });
    if (wrong || c.reader->end() != echod::ReplyReader::End::Open) {
      fail(c, "burst: the first line was not echoed");
      return;
    }
    if (!c.echoed || c.answered > 0) return;
    c.answered = 1;
    ++_echoed;
    _lastEcho = now;
    ++_result.messages;
    _result.payloadBytes += _o.size + 1;
    _result.latency.record(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.sentAt[0]).count()));
  }

  void checkTimeouts() {
    const auto now = Clock::now();
    _nextTimeoutCheck = now + std::chrono::milliseconds(100);
    const auto limit = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(_o.timeout));
    for (auto& c : _connections) {
      const bool waiting = _o.connectStorm || c.sent > c.answered || (_o.burst && !c.echoed);
      if (c.fd >= 0 && waiting && now - c.progress > limit) fail(c, "no reply within --timeout");
    }
  }

  const Options& _o;
  const sockaddr_storage _address;
  const socklen_t _addressSize;
  std::vector<Connection> _connections;
  int _epoll = -1;
  int _live = 0;
  Clock::time_point _end;
  Clock::time_point _nextTimeoutCheck;
  std::string _expected;
  std::string _sessionScript;
  std::string _message;     ///< connect and burst workloads: the line each session sends
  std::size_t _echoed = 0;  ///< burst: connections that had their echo
  std::size_t _answeredConnections = 0;
  bool _warming = false;  ///< ping-pong: the timed window has not begun
  bool _warmed = false;   ///< ping-pong: each of this loop's connections has had a reply
  WindowStart& _window;
  std::size_t _firstReplies = 0;  ///< ping-pong: connections that had a reply
  double _setupSeconds = 0;
  Clock::time_point _lastEcho;  ///< burst: when the latest of them came
  echod::BenchResult _result;
};

}  // namespace

namespace {

/// The server's CPU time (user + system, all its threads, exited ones
/// included), in seconds, or -1 once it is gone: its process CPU clock
/// (clock_getcpuclockid), to the nanosecond. /proc/PID/stat holds the same
/// sum in clock ticks (10 ms), as coarse as a burst of 1,000's whole cost.
double cpuSecondsOf(int pid) {
  clockid_t clock{};
  timespec now{};
  if (::clock_getcpuclockid(pid, &clock) != 0 || ::clock_gettime(clock, &now) != 0) return -1;
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

/// How long `cpus` were not busy (idle, iowait and steal in /proc/stat), in seconds.
/// Idle time there is measured, not sampled (the kernel stamps each idle period);
/// the busy fields are sampled at the timer tick, which a CPU that idles many
/// times a tick reports short (at c=1 by a third).
double notBusySecondsOf(const std::vector<int>& cpus) {
  std::ifstream stat("/proc/stat");
  std::string line;
  double ticks = 0;
  while (std::getline(stat, line)) {
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    std::istringstream fields(line.substr(3));
    int cpu = -1;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    fields >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    if (std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) ticks += idle + iowait + steal;
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

ServerCpu readServerCpu(const Options& options) {
  ServerCpu now;
  if (options.serverPid > 0) now.process = cpuSecondsOf(options.serverPid);
  if (!options.serverCpus.empty()) {
    // Busy = the time that passed on each CPU, less its idle time (a difference of two readings).
    const double elapsed = std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
    now.cpus = elapsed * static_cast<double>(options.serverCpus.size()) - notBusySecondsOf(options.serverCpus);
  }
  return now;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  if (::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    usage("cannot resolve --host=" + options.host);
  }
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  const auto addressSize = static_cast<socklen_t>(found->ai_addrlen);
  ::freeaddrinfo(found);

  const int threads = std::min(options.threads, options.connections);
  WindowStart window(threads, options);
  std::vector<std::unique_ptr<Loop>> loops;
  for (int t = 0; t < threads; ++t) {
    const int share = options.connections / threads + (t < options.connections % threads ? 1 : 0);
    loops.push_back(std::make_unique<Loop>(options, address, addressSize, share, window));
  }
  const ServerCpu cpuBefore = readServerCpu(options);
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.duration));
  std::vector<echod::BenchResult> results(loops.size());
  std::vector<std::thread> running;
  for (std::size_t t = 0; t < loops.size(); ++t) {
    running.emplace_back([&, t] { results[t] = loops[t]->run(start, end); });
  }
  for (auto& thread : running) thread.join();
  // Read before the loops close their connections: the run's CPU, not the closes'.
  // Ping-pong: from the window's start, without the set-up.
  const bool windowed = !options.burst && !options.connectStorm;
  const ServerCpu serverCpu = readServerCpu(options) - (windowed && window.isOpen() ? window.serverCpu : cpuBefore);

  echod::BenchResult total;
  for (const auto& r : results) {
    total.connections += r.connections;
    total.messages += r.messages;
    total.errors += r.errors;
    total.payloadBytes += r.payloadBytes;
    total.seconds = std::max(total.seconds, r.seconds);
    total.latency.merge(r.latency);
    if (total.firstError.empty()) total.firstError = r.firstError;
  }
  if (options.burst) {
    const auto us = [&](double p) { return static_cast<double>(total.latency.percentile(p)) / 1000.0; };
    std::ostringstream line;
    line << std::fixed << std::setprecision(1) << "{\"connections\":" << total.connections
         << ",\"echoed\":" << total.messages << ",\"errors\":" << total.errors
         << ",\"all_echoed_ms\":" << total.seconds * 1000 << ",\"first_echo_us\":{\"p50\":" << us(0.5)
         << ",\"p99\":" << us(0.99) << ",\"max\":" << static_cast<double>(total.latency.max()) / 1000.0
         << "},\"server_cpu_ms\":" << serverCpu.process * 1000 << ",\"server_cpus_busy_ms\":" << serverCpu.cpus * 1000
         << ",\"first_error\":" << Poco::toJSON(total.firstError) << "}\n";
    std::cout << line.str() << std::flush;
    return total.errors == 0 && total.messages == static_cast<std::uint64_t>(total.connections) ? 0 : 1;
  }
  std::size_t answered = 0;
  double setup = 0;
  for (const auto& loop : loops) {
    answered += loop->answeredConnections();
    setup = std::max(setup, loop->setupSeconds());
  }
  std::string json = total.json();
  json.insert(json.rfind('}'), ",\"answered_connections\":" + std::to_string(answered) +
                                   ",\"setup_seconds\":" + std::to_string(setup) +
                                   ",\"server_cpu_ms\":" + std::to_string(serverCpu.process * 1000) +
                                   ",\"server_cpus_busy_ms\":" + std::to_string(serverCpu.cpus * 1000));
  std::cout << json << std::flush;
  return total.errors == 0 ? 0 : 1;
}
