#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/SocketAddress.h>

#include <atomic>

#include "service/server/EchoServer.h"

namespace echod {

/// Where the console's relay connects: the echo port, on loopback when the
/// server listens on every address.
Poco::Net::SocketAddress consoleEchoTarget(const EchoServer& echo);

/// What the console's sessions share: how many run, and whether the admin
/// server is stopping (a session then ends within kSessionPollMs).
struct ConsoleSessions {
  explicit ConsoleSessions(int limit) : limit(limit) {}
  const int limit;
  std::atomic<int> running{0};
  std::atomic<bool> stopping{false};
};

/// GET /console/ws: the browser's WebSocket, relayed to a real echo
/// connection on the echo port. Each text frame is one line sent; each reply
/// line comes back as one text frame; when the server ends the connection
/// (FIN, ERR, or a plain close) the WebSocket is closed with that last line as
/// its reason. The Origin must be this host; at most echo.consoleSessions at once.
class ConsoleSocketHandler : public Poco::Net::HTTPRequestHandler {
 public:
  ConsoleSocketHandler(const EchoServer& echo, ConsoleSessions& sessions) : _echo(echo), _sessions(sessions) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

  /// How often a session looks up from its wait for either side.
  static constexpr int kSessionPollMs = 200;

 private:
  const EchoServer& _echo;
  ConsoleSessions& _sessions;
};

}  // namespace echod
