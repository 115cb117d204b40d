#pragma once

#include <cstdint>
#include <memory>

#include "service/server/EchoServer.h"
#include "service/server/ServerSettings.h"

namespace echod::test {

/// Settings for a test server: loopback, a free port, otherwise the defaults.
inline ServerSettings testSettings() {
  ServerSettings s;
  s.host = "127.0.0.1";
  s.port = 0;
  return s;
}

/// A real EchoServer in this process, started, on a free loopback port.
class InProcessServer {
 public:
  explicit InProcessServer(const ServerSettings& settings = testSettings())
      : _server(std::make_unique<EchoServer>(settings)) {
    _server->start();
  }
  std::uint16_t port() const { return _server->address().port(); }
  EchoServer& server() { return *_server; }

 private:
  std::unique_ptr<EchoServer> _server;
};

}  // namespace echod::test
