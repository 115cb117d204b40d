#include "service/AdminServer.h"

#include <Poco/Format.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include "service/ListeningSocket.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace echod {
namespace {

constexpr int kAdminThreads = 2;
constexpr int kAdminStack = 256 * 1024;
constexpr int kAdminBacklog = 64;

long residentBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0;
  long resident = 0;
  statm >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

void counter(std::ostringstream& out, const char* name, const char* help, std::uint64_t value) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n" << name << ' ' << value << '\n';
}

void gauge(std::ostringstream& out, const char* name, const char* help, double value) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n" << name << ' ' << value << '\n';
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

class MetricsHandler : public Poco::Net::HTTPRequestHandler {
 public:
  MetricsHandler(const EchoServer& echo, const Poco::Timestamp& started) : _echo(echo), _started(started) {}
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
    const std::string body = AdminServer::metricsText(_echo, _started);
    response.setContentType("text/plain; version=0.0.4; charset=utf-8");
    response.sendBuffer(body.data(), body.size());
  }

 private:
  const EchoServer& _echo;
  const Poco::Timestamp& _started;
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
  explicit AdminHandlerFactory(const EchoServer& echo) : _echo(echo) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override {
    const bool get = request.getMethod() == Poco::Net::HTTPRequest::HTTP_GET ||
                     request.getMethod() == Poco::Net::HTTPRequest::HTTP_HEAD;
    if (get && request.getURI() == "/metrics") return new MetricsHandler(_echo, _started);
    if (get && request.getURI() == "/healthz") return new HealthHandler(_echo);
    return new NotFoundHandler;
  }

 private:
  const EchoServer& _echo;
  const Poco::Timestamp _started;
};

}  // namespace

std::string AdminServer::metricsText(const EchoServer& echo, const Poco::Timestamp& started) {
  const ServerMetrics& m = echo.metrics();
  const EchoServer::Gauges g = echo.gauges();
  std::ostringstream out;
  gauge(out, "echod_connections_open", "Connections admitted and not yet closed.",
        static_cast<double>(g.openConnections));
  counter(out, "echod_connections_total", "Connections served since start.", m.connectionsOpened.load());
  byReason(out, "echod_connections_refused_total", "Connections refused at admission, by reply.", m.refused,
           {ErrorReason::ServerBusy, ErrorReason::TooManyConnections, ErrorReason::ShuttingDown});
  counter(out, "echod_messages_total", "Messages answered with an echo.", m.messages.load());
  counter(out, "echod_received_bytes_total", "Bytes received from clients.", m.bytesReceived.load());
  counter(out, "echod_sent_bytes_total", "Bytes sent to clients.", m.bytesSent.load());
  byReason(out, "echod_errors_total", "ERR replies sent on open connections, by reason.", m.errors,
           {ErrorReason::LineTooLong, ErrorReason::IdleTimeout, ErrorReason::ShuttingDown});
  gauge(out, "echod_worker_threads_busy", "Worker threads serving a connection now.", g.busyThreads);
  gauge(out, "echod_worker_threads_max", "Size of the worker pool (maxThreads).", g.maxThreads);
  gauge(out, "echod_worker_threads_started", "Worker threads the pool has started.", g.poolThreads);
  gauge(out, "echod_queued_connections", "Connections waiting for a worker thread.", g.queued);
  gauge(out, "echod_draining", "1 while the server is shutting down.", g.draining ? 1 : 0);
  gauge(out, "echod_uptime_seconds", "Seconds since the server started.", static_cast<double>(started.elapsed()) / 1e6);
  gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.", static_cast<double>(residentBytes()));
  return out.str();
}

AdminServer::AdminServer(const EchoServer& echo, const std::string& host, std::uint16_t port)
    : _pool("admin", 1, kAdminThreads, 60, kAdminStack) {
  Poco::Net::HTTPServerParams::Ptr params(new Poco::Net::HTTPServerParams);
  params->setMaxThreads(kAdminThreads);
  params->setMaxQueued(16);
  params->setKeepAlive(false);
  _http = std::make_unique<Poco::Net::HTTPServer>(new AdminHandlerFactory(echo), _pool,
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
  _http->stopAll(true);
  _pool.joinAll();
}

Poco::Net::SocketAddress AdminServer::address() const { return _http->socket().address(); }

}  // namespace echod
