#include "Haproxy.h"

#include <gtest/gtest.h>

#include <Poco/File.h>
#include <Poco/FileStream.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <vector>

#include "TestClient.h"
#include "TlsSupport.h"

namespace echod::test {

Haproxy::Haproxy(std::uint16_t backendPort, const Options& options) {
  const std::string path = findProgram("haproxy").empty() ? "/usr/sbin/haproxy" : findProgram("haproxy");
  if (!Poco::File(path).exists()) {
    ADD_FAILURE() << "haproxy is not installed (scripts/install-deps.sh test installs it)";
    return;
  }
  // A port taken after all makes HAProxy exit: the next try takes another.
  for (int attempt = 0; attempt < 3 && !_process; ++attempt) {
    _port = freeFixedPort();
    Poco::FileOutputStream config(_config.path());
    config << "global\n  maxconn 100\n"
           << "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client " << options.clientTimeout
           << "\n  timeout server " << options.serverTimeout << "\n"
           << "frontend in\n  bind 127.0.0.1:" << _port << "\n  default_backend echod\n"
           << "backend echod\n  server s1 127.0.0.1:" << backendPort << " " << options.serverOptions << "\n";
    config.close();
    auto process = std::make_unique<ChildProcess>(path, std::vector<std::string>{"-db", "-f", _config.path()});
    if (eventually([&] { return accepts() || process->waitForExit(std::chrono::milliseconds(0)).has_value(); }) &&
        accepts()) {
      _process = std::move(process);
    }
  }
  if (!_process) ADD_FAILURE() << "haproxy did not start";
}

bool Haproxy::accepts() const {
  try {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", _port));
    return true;
  } catch (const Poco::Exception&) {
    return false;
  }
}

}  // namespace echod::test
