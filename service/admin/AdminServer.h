#pragma once

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

#include <memory>
#include <string>

#include "service/admin/ConsoleRelay.h"
#include "service/server/EchoServer.h"

namespace echod {

/// The admin HTTP endpoint (POCO's HTTPServer) on its own small thread pool,
/// so a full echo pool never blocks it. It reads the admin settings only
/// (AdminSettings, taken from the echo server's once):
///   GET /healthz   200 "ok" while accepting, 503 "draining" while stopping
///   GET /readyz    200 while taking connections and staying, 503 from the first signal (or the switch)
///   POST /readyz/disable, /readyz/enable   the readiness switch (echo.adminControl; 403 when off)
///   GET /metrics   Prometheus text format
///   GET /          the web console (echo.console), with /console/state and /console/ws
class AdminServer {
 public:
  AdminServer(EchoServer& echo, const std::string& host, std::uint16_t port);
  ~AdminServer();

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  void start();
  Poco::Net::SocketAddress address() const;

 private:
  void stop();  ///< by the destructor: stops accepting, joins the handler threads

  const AdminSettings _settings;
  std::unique_ptr<ConsoleSessions> _sessions;
  Poco::ThreadPool _pool;
  std::unique_ptr<Poco::Net::HTTPServer> _http;
  bool _running = false;
};

}  // namespace echod
