#pragma once

#include <Poco/Net/SocketAddress.h>

#include <string>

#include "client/BenchResult.h"
#include "client/ClientSettings.h"

namespace echod {

/// `echo-client --udp` (docs/protocol.md, "UDP"): --send (one datagram per
/// message, replies printed as they come, each awaited at most --timeout),
/// --check (a random token echoed exactly, tried up to three times within the
/// timeout: UDP may lose one), --who, and --bench (--connections sockets, each
/// a closed loop of one datagram in flight; a reply not back within --timeout
/// is lost, a wrong one an error).
class UdpEchoClient {
 public:
  explicit UdpEchoClient(const ClientSettings& settings);

  /// --send: exit status 0 when every datagram got its reply, else 1.
  int send();
  /// --check: true when the server echoed the token; `report` says what was seen.
  bool check(std::string& report);
  /// --who: prints the JSON; exit status 0, or 1 when no JSON came.
  int who();
  /// --bench.
  BenchResult bench();
  /// host:port (UDP), as messages name it.
  std::string target() const;

 private:
  const ClientSettings& _settings;
  Poco::Net::SocketAddress _server;
};

}  // namespace echod
