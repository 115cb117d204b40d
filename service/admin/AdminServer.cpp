#include "service/admin/AdminServer.h"

#include <Poco/Format.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "service/admin/ConsolePage.h"
#include "service/admin/ConsoleRelay.h"
#include "service/admin/ConsoleState.h"
#include "service/admin/MetricsText.h"
#include "service/core/ListeningSocket.h"

namespace echod {
namespace {

constexpr int kAdminThreads = 2;
constexpr int kAdminStack = 256 * 1024;
constexpr int kAdminBacklog = 64;

int adminThreads(const AdminSettings& settings) {
  return kAdminThreads + (settings.console ? settings.consoleSessions : 0);
}

}  // namespace

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

/// 200 while the server takes new connections; 503 from the moment it was
/// asked to stop (the shutdown delay, then the drain): load balancers take it out.
class ReadyHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit ReadyHandler(const EchoServer& echo) : _echo(echo) {}
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
    const bool ready = _echo.ready();
    response.setStatus(ready ? Poco::Net::HTTPResponse::HTTP_OK : Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
    response.setContentType("text/plain");
    response.set("Cache-Control", "no-store");
    response.send() << (ready                         ? "ready\n"
                        : _echo.readinessSwitchedOn() ? "leaving the rotation\n"
                                                      : "switched off (POST /readyz/enable)\n");
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

/// The readiness switch (echo.adminControl): POST /readyz/disable and /readyz/enable.
class ReadinessSwitchHandler : public Poco::Net::HTTPRequestHandler {
 public:
  ReadinessSwitchHandler(EchoServer& echo, const AdminSettings& settings, bool on)
      : _echo(echo), _settings(settings), _on(on) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    response.setContentType("text/plain");
    response.set("Cache-Control", "no-store");
    if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_POST) {
      response.setStatus(Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED);
      response.set("Allow", "POST");
      response.send() << "POST only\n";
      return;
    }
    if (!_settings.adminControl) {
      response.setStatus(Poco::Net::HTTPResponse::HTTP_FORBIDDEN);
      response.send() << "the readiness switch is off: start with --admin-control=on (echo.adminControl)\n";
      return;
    }
    _echo.switchReadiness(_on);
    Poco::Logger::get("echod.server")
        .notice(_on ? "readiness switched on (POST /readyz/enable)" : "readiness switched off (POST /readyz/disable)");
    response.send() << (_on ? "readiness on: /readyz follows the server again\n"
                            : "readiness off: /readyz says 503, the echo service goes on\n");
  }

 private:
  EchoServer& _echo;
  const AdminSettings& _settings;
  const bool _on;
};

class NotFoundHandler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
    response.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
    response.setContentType("text/plain");
    response.send() << "not found: try /healthz, /readyz or /metrics\n";
  }
};

class AdminHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  AdminHandlerFactory(EchoServer& echo, const AdminSettings& settings, ConsoleSessions& sessions)
      : _echo(echo), _settings(settings), _sessions(sessions) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override {
    const bool get = request.getMethod() == Poco::Net::HTTPRequest::HTTP_GET ||
                     request.getMethod() == Poco::Net::HTTPRequest::HTTP_HEAD;
    const std::string& uri = request.getURI();
    if (get && uri == "/metrics") return new MetricsHandler(_echo);
    if (get && uri == "/healthz") return new HealthHandler(_echo);
    if (get && uri == "/readyz") return new ReadyHandler(_echo);
    if (uri == "/readyz/disable" || uri == "/readyz/enable")
      return new ReadinessSwitchHandler(_echo, _settings, uri == "/readyz/enable");
    if (get && _settings.console) {
      if (uri == "/" || uri == "/index.html") return new ConsolePageHandler;
      if (uri == "/console/state") return new ConsoleStateHandler(_echo);
      if (uri == "/console/ws") return new ConsoleSocketHandler(_echo, _sessions);
    }
    return new NotFoundHandler;
  }

 private:
  EchoServer& _echo;
  const AdminSettings& _settings;
  ConsoleSessions& _sessions;
};

}  // namespace

AdminServer::AdminServer(EchoServer& echo, const std::string& host, std::uint16_t port)
    : _settings(echo.settings()),
      _sessions(std::make_unique<ConsoleSessions>(_settings.consoleSessions)),
      // Console sessions hold a thread each; /healthz and /metrics keep kAdminThreads of their own.
      _pool("admin", 1, adminThreads(_settings), 60, kAdminStack) {
  Poco::Net::HTTPServerParams::Ptr params(new Poco::Net::HTTPServerParams);
  params->setMaxThreads(adminThreads(_settings));
  params->setMaxQueued(16);
  // A request must arrive within this: an idle connection cannot hold an
  // admin thread (and so /healthz) for POCO's default minute. A console
  // session sets its own timeouts once it is a WebSocket.
  params->setTimeout(Poco::Timespan(5, 0));
  params->setKeepAlive(false);
  _http = std::make_unique<Poco::Net::HTTPServer>(new AdminHandlerFactory(echo, _settings, *_sessions), _pool,
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
  // joinAll() waits for each thread's task, stopAll() ends and joins the
  // threads themselves: only then has every HTTPServerConnection's destructor
  // (which unhooks itself from the server's stop event) returned, before
  // ~AdminServer destroys the server (TSan saw the two race, 1 run in 12).
  _pool.joinAll();
  _pool.stopAll();
}

Poco::Net::SocketAddress AdminServer::address() const { return _http->socket().address(); }

}  // namespace echod
