#include "service/AdminServer.h"

#include <Poco/Format.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Timestamp.h>
#include "service/Console.h"
#include "service/ListeningSocket.h"

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace echod {
namespace {

constexpr int kAdminThreads = 2;
constexpr int kAdminStack = 256 * 1024;
constexpr int kAdminBacklog = 64;

int adminThreads(const ServerSettings& settings) {
  return kAdminThreads + (settings.console ? settings.consoleSessions : 0);
}

/// The process figures every official Prometheus client exports, from /proc.
struct ProcessFigures {
  double cpuSeconds = 0;
  double startTimeSeconds = 0;
  double virtualBytes = 0;
  double residentBytes = 0;
  double openFds = 0;
  double maxFds = 0;
  double threads = 0;
};

ProcessFigures processFigures() {
  ProcessFigures f;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream statFile("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');
  if (paren != std::string::npos) {
    // Fields after "(comm)" start at field 3: utime 14, stime 15, threads 20, starttime 22, vsize 23, rss 24.
    std::istringstream fields(stat.substr(paren + 2));
    std::vector<std::string> v((std::istream_iterator<std::string>(fields)), std::istream_iterator<std::string>());
    const auto field = [&v](std::size_t n) { return n - 3 < v.size() ? std::stod(v[n - 3]) : 0.0; };
    f.cpuSeconds = (field(14) + field(15)) / ticks;
    f.threads = field(20);
    f.virtualBytes = field(23);
    f.residentBytes = field(24) * page;
    std::ifstream procStat("/proc/stat");
    for (std::string key; procStat >> key;) {
      if (key == "btime") {
        double boot = 0;
        procStat >> boot;
        f.startTimeSeconds = boot + field(22) / ticks;
        break;
      }
    }
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    ++f.openFds;
  }
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0) f.maxFds = static_cast<double>(files.rlim_cur);
  return f;
}

void counter(std::ostringstream& out, const char* name, const char* help, std::uint64_t value) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n" << name << ' ' << value << '\n';
}

void counter(std::ostringstream& out, const char* name, const char* help, double value) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n" << name << ' ' << value << '\n';
}

void gauge(std::ostringstream& out, const char* name, const char* help, double value) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n" << name << ' ' << value << '\n';
}

/// A family with one series per label value, e.g. listener="tls".
template <typename Values>
void series(std::ostringstream& out, const char* name, const char* type, const char* help, const char* label,
            const char* const* labelValues, const Values& values) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  for (std::size_t i = 0; i < values.size(); ++i) {
    out << name << '{' << label << "=\"" << labelValues[i] << "\"} " << static_cast<std::uint64_t>(values[i]) << '\n';
  }
}

/// A counter with one series per error reason, e.g. reason="server_busy".
void byReason(std::ostringstream& out, const char* name, const char* help,
              const std::array<ServerMetrics::Counter, ServerMetrics::kReasons>& counts,
              std::initializer_list<ErrorReason> reasons) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n";
  for (const ErrorReason reason : reasons) {
    std::string label(reasonText(reason));
    for (char& c : label) c = c == ' ' ? '_' : c;
    out << name << "{reason=\"" << label << "\"} " << counts[ServerMetrics::slot(reason)].load() << '\n';
  }
}

}  // namespace

/// The /metrics page for `echo` now.
std::string metricsText(const EchoServer& echo) {
  const ServerMetrics& m = echo.metrics();
  const EchoServer::Gauges g = echo.gauges();
  std::ostringstream out;
  out.precision(15);  // byte counts in full, not 1.57e+08
  gauge(out, "echod_connections_open", "Connections admitted and not yet closed.",
        static_cast<double>(g.openConnections));
  counter(out, "echod_connections_total", "Connections served since start.", m.connectionsOpened.load());
  const auto& listeners = ConnectionRegistry::kListenerNames;
  series(out, "echod_listener_connections_open", "gauge", "Connections admitted and not yet closed, by listener.",
         "listener", listeners.data(), g.openByListener);
  series(out, "echod_listener_connections_total", "counter", "Connections served since start, by listener.", "listener",
         listeners.data(), m.connectionsByListener);
  series(out, "echod_tls_handshakes_total", "counter",
         "TLS handshakes, by result: ok, timeout (stalled past echo.tlsHandshakeTimeout), not_tls (plain text on "
         "the TLS port), closed (by the client), failed.",
         "result", ServerMetrics::kHandshakeNames.data(), m.tlsHandshakes);
  byReason(out, "echod_connections_refused_total", "Connections refused at admission, by reply.", m.refused,
           {ErrorReason::ServerBusy, ErrorReason::TooManyConnections, ErrorReason::ShuttingDown});
  counter(out, "echod_messages_total", "Messages answered with an echo.", m.messages.load());
  counter(out, "echod_received_bytes_total", "Bytes received from clients.", m.bytesReceived.load());
  counter(out, "echod_sent_bytes_total", "Bytes sent to clients.", m.bytesSent.load());
  byReason(out, "echod_errors_total", "ERR replies sent on open connections, by reason.", m.errors,
           {ErrorReason::LineTooLong, ErrorReason::IdleTimeout, ErrorReason::ShuttingDown});
  counter(out, "echod_idle_timeouts_total", "Connections woken for completing no message within the idle timeout.",
          m.idleWoken.load());
  counter(out, "echod_idle_evictions_under_load_total",
          "Idle connections closed to make room for connections waiting for a thread.", m.evictedUnderLoad.load());
  counter(out, "echod_queue_timeouts_total", "Queued connections answered ERR server busy at the queue timeout.",
          m.queueTimeouts.load());
  counter(out, "echod_thread_start_failures_total",
          "Queued connections answered ERR server busy because the system refused a thread.",
          m.threadStartFailures.load());
  gauge(out, "echod_worker_threads_busy", "Worker threads serving a connection now.",
        static_cast<double>(g.busyThreads));
  gauge(out, "echod_worker_threads_max", "Size of the worker pool (maxThreads).", g.maxThreads);
  gauge(out, "echod_worker_threads_started", "Worker threads the pool has started.", g.poolThreads);
  out << "# HELP echod_worker_pool_info The limit that decided the worker pool's size.\n"
      << "# TYPE echod_worker_pool_info gauge\n"
      << "echod_worker_pool_info{decided_by=\"" << echo.poolSize().decidedBy << "\",threads=\"" << g.maxThreads
      << "\"} 1\n";
  gauge(out, "echod_queued_connections", "Connections waiting for a worker thread.", static_cast<double>(g.queued));
  gauge(out, "echod_draining", "1 while the server is shutting down.", g.draining ? 1 : 0);
  const ProcessFigures p = processFigures();
  gauge(out, "echod_uptime_seconds", "Seconds since the process started.",
        static_cast<double>(Poco::Timestamp().epochMicroseconds()) / 1e6 - p.startTimeSeconds);
  counter(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", p.cpuSeconds);
  gauge(out, "process_open_fds", "Number of open file descriptors.", p.openFds);
  gauge(out, "process_max_fds", "Maximum number of open file descriptors.", p.maxFds);
  gauge(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
        p.startTimeSeconds);
  gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", p.virtualBytes);
  gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.", p.residentBytes);
  gauge(out, "process_threads", "Number of OS threads in the process.", p.threads);
  return out.str();
}

namespace {

class MetricsHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit MetricsHandler(const EchoServer& echo) : _echo(echo) {}
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
    const std::string body = metricsText(_echo);
    response.setContentType("text/plain; version=0.0.4; charset=utf-8");
    response.sendBuffer(body.data(), body.size());
  }

 private:
  const EchoServer& _echo;
};

class HealthHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit HealthHandler(const EchoServer& echo) : _echo(echo) {}
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
    const bool draining = _echo.gauges().draining;
    response.setStatus(draining ? Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE : Poco::Net::HTTPResponse::HTTP_OK);
    response.setContentType("text/plain");
    response.send() << (draining ? "draining\n" : "ok\n");
  }

 private:
  const EchoServer& _echo;
};

class ConsolePageHandler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
    const std::string_view page = consolePage();
    response.setContentType("text/html; charset=utf-8");
    // Nothing but this page's own inline code and this server: no CDN, no framing by other sites.
    response.set("Content-Security-Policy",
                 "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
                 "img-src 'self'; frame-ancestors 'none'");
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Cache-Control", "no-store");
    response.sendBuffer(page.data(), page.size());
  }
};

class ConsoleStateHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit ConsoleStateHandler(const EchoServer& echo) : _echo(echo) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    const std::string body = consoleState(_echo, request.clientAddress());
    response.setContentType("application/json");
    response.set("Cache-Control", "no-store");
    response.sendBuffer(body.data(), body.size());
  }

 private:
  const EchoServer& _echo;
};

class NotFoundHandler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
    response.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
    response.setContentType("text/plain");
    response.send() << "not found: try /healthz or /metrics\n";
  }
};

class AdminHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  AdminHandlerFactory(const EchoServer& echo, ConsoleSessions& sessions) : _echo(echo), _sessions(sessions) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override {
    const bool get = request.getMethod() == Poco::Net::HTTPRequest::HTTP_GET ||
                     request.getMethod() == Poco::Net::HTTPRequest::HTTP_HEAD;
    const std::string& uri = request.getURI();
    if (get && uri == "/metrics") return new MetricsHandler(_echo);
    if (get && uri == "/healthz") return new HealthHandler(_echo);
    if (get && _echo.settings().console) {
      if (uri == "/" || uri == "/index.html") return new ConsolePageHandler;
      if (uri == "/console/state") return new ConsoleStateHandler(_echo);
      if (uri == "/console/ws") return new ConsoleSocketHandler(_echo, _sessions);
    }
    return new NotFoundHandler;
  }

 private:
  const EchoServer& _echo;
  ConsoleSessions& _sessions;
};

}  // namespace

AdminServer::AdminServer(const EchoServer& echo, const std::string& host, std::uint16_t port)
    : _sessions(std::make_unique<ConsoleSessions>(echo.settings().consoleSessions)),
      // Console sessions hold a thread each; /healthz and /metrics keep kAdminThreads of their own.
      _pool("admin", 1, adminThreads(echo.settings()), 60, kAdminStack) {
  Poco::Net::HTTPServerParams::Ptr params(new Poco::Net::HTTPServerParams);
  params->setMaxThreads(adminThreads(echo.settings()));
  params->setMaxQueued(16);
  // A request must arrive within this: an idle connection cannot hold an
  // admin thread (and so /healthz) for POCO's default minute. A console
  // session sets its own timeouts once it is a WebSocket.
  params->setTimeout(Poco::Timespan(5, 0));
  params->setKeepAlive(false);
  _http = std::make_unique<Poco::Net::HTTPServer>(new AdminHandlerFactory(echo, *_sessions), _pool,
                                                  listeningSocket(host, port, kAdminBacklog), params);
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
  _http->start();
  _running = true;
}

void AdminServer::stop() {
  if (!_running) return;
  _running = false;
  _sessions->stopping.store(true, std::memory_order_release);
  _http->stopAll(true);
  _pool.joinAll();
}

Poco::Net::SocketAddress AdminServer::address() const { return _http->socket().address(); }

}  // namespace echod
