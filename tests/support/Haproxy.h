#pragma once

#include <Poco/TemporaryFile.h>

#include <cstdint>
#include <memory>
#include <string>

#include "ChildProcess.h"

namespace echod::test {

/// A real HAProxy (the Debian package) in TCP mode on a free loopback port,
/// in front of one echod listener: a PROXY protocol sender, a load
/// balancer's idle timeouts. Started in the foreground (-db) and stopped
/// with the object; the constructor waits until it accepts, and records a
/// test failure when it is not installed or does not start.
class Haproxy {
 public:
  struct Options {
    std::string serverOptions;  ///< after the server line's address, e.g. "send-proxy-v2"
    std::string clientTimeout = "30s";
    std::string serverTimeout = "30s";
  };
  Haproxy(std::uint16_t backendPort, const Options& options);
  std::uint16_t port() const { return _port; }
  bool running() const { return _process != nullptr; }

 private:
  bool accepts() const;

  Poco::TemporaryFile _config;
  std::uint16_t _port = 0;
  std::unique_ptr<ChildProcess> _process;
};

}  // namespace echod::test
