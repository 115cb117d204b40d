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
/// so a full echo pool never blocks it:
///   GET /healthz   200 "ok" while accepting, 503 "draining" while stopping
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

  std::unique_ptr<ConsoleSessions> _sessions;
  Poco::ThreadPool _pool;
  std::unique_ptr<Poco::Net::HTTPServer> _http;
  bool _running = false;
};

}  // namespace echod
