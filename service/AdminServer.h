#pragma once

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <Poco/Timestamp.h>

#include <memory>
#include <string>

#include "service/EchoServer.h"

namespace echod {

/// The admin HTTP endpoint (POCO's HTTPServer) on its own small thread pool,
/// so a full echo pool never blocks it:
///   GET /healthz   200 "ok" while accepting, 503 "draining" while stopping
///   GET /metrics   Prometheus text format
class AdminServer {
 public:
  AdminServer(const EchoServer& echo, const std::string& host, std::uint16_t port);
  ~AdminServer();

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  void start();
  void stop();
  Poco::Net::SocketAddress address() const;

  /// The /metrics page for `echo` now; `started` is when the process started.
  static std::string metricsText(const EchoServer& echo, const Poco::Timestamp& started);

 private:
  Poco::ThreadPool _pool;
  std::unique_ptr<Poco::Net::HTTPServer> _http;
  bool _running = false;
};

}  // namespace echod
