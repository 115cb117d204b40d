// The web console's server side over loopback: the page, the live view's
// JSON, and the WebSocket relayed to a real echo connection (so that the
// sanitizer builds run it too). The browser itself: tests/browser/.
#include <gtest/gtest.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/Stopwatch.h>
#include <Poco/StreamCopier.h>

#include <future>
#include <memory>
#include <sstream>
#include <string>

#include "InProcessServer.h"
#include "TestClient.h"
#include "service/admin/AdminServer.h"
#include "service/admin/ConsoleState.h"

namespace echod {
namespace {

using test::InProcessServer;
using test::testSettings;

/// An echo server with its admin endpoint (and so its console) on free loopback ports.
struct ConsoleServer {
  explicit ConsoleServer(const ServerSettings& settings = testSettings())
      : echo(settings), admin(echo.server(), "127.0.0.1", 0) {
    admin.start();
  }
  std::uint16_t port() const { return admin.address().port(); }
  InProcessServer echo;
  AdminServer admin;
};

std::string get(std::uint16_t port, const std::string& path, int& status) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(test::kDeadline);
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& body = session.receiveResponse(response);
  status = response.getStatus();
  std::string text;
  Poco::StreamCopier::copyToString(body, text);
  return text;
}

/// A console session, as the page opens it.
class ConsoleSession {
 public:
  explicit ConsoleSession(std::uint16_t port, const std::string& origin = "")
      : _session("127.0.0.1", port),
        _request(Poco::Net::HTTPRequest::HTTP_GET, "/console/ws", Poco::Net::HTTPMessage::HTTP_1_1) {
    _request.set("Origin", origin.empty() ? "http://127.0.0.1:" + std::to_string(port) : origin);
    _session.setTimeout(test::kDeadline);
    _ws = std::make_unique<Poco::Net::WebSocket>(_session, _request, _response);
    _ws->setReceiveTimeout(test::kDeadline);
  }
  void send(const std::string& line) { _ws->sendFrame(line.data(), static_cast<int>(line.size())); }
  /// The next text frame; for a close frame, "close <code> <reason>".
  std::string next() {
    char buffer[70000];
    int flags = 0;
    const int n = _ws->receiveFrame(buffer, sizeof buffer, flags);
    if ((flags & Poco::Net::WebSocket::FRAME_OP_BITMASK) == Poco::Net::WebSocket::FRAME_OP_CLOSE) {
      const int code =
          n >= 2 ? (static_cast<unsigned char>(buffer[0]) << 8 | static_cast<unsigned char>(buffer[1])) : 0;
      return "close " + std::to_string(code) + " " + std::string(buffer + std::min(n, 2), buffer + n);
    }
    return std::string(buffer, static_cast<std::size_t>(n));
  }

 private:
  Poco::Net::HTTPClientSession _session;
  Poco::Net::HTTPRequest _request;
  Poco::Net::HTTPResponse _response;
  std::unique_ptr<Poco::Net::WebSocket> _ws;
};

TEST(Console, ThePageIsServedWholeWithNothingToFetchElsewhere) {
  ConsoleServer server;
  int status = 0;
  const std::string page = get(server.port(), "/", status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(page.find("<title>echod console</title>"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos) << "no absolute URL: everything is built in";
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find("innerHTML"), std::string::npos) << "text is set with textContent only";
}

TEST(Console, EachFrameIsALineAndEachReplyLineAFrameThroughARealConnection) {
  ConsoleServer server;
  ConsoleSession session(server.port());
  session.send("bonjour");
  EXPECT_EQ(session.next(), "echo : bonjour");
  session.send("<script>alert(1)</script>");
  EXPECT_EQ(session.next(), "echo : <script>alert(1)</script>");
  EXPECT_EQ(server.echo.server().gauges().busyThreads, 1U) << "the console is an ordinary client: one worker";
  session.send("exit");
  EXPECT_EQ(session.next(), "FIN");
  EXPECT_EQ(session.next(), "close 1000 FIN");
}

TEST(Console, ADualStackListenerIsRelayedToOverIpv4Loopback) {
  auto settings = testSettings();
  settings.host = "::";
  ConsoleServer server(settings);
  int status = 0;
  const std::string state = get(server.port(), "/console/state", status);
  EXPECT_EQ(status, 200);
  const std::string target = "{\"echo\":\"127.0.0.1:" + std::to_string(server.echo.port()) + "\"";
  EXPECT_EQ(state.rfind(target, 0), 0U) << state;
  ConsoleSession session(server.port());
  session.send("dual");
  EXPECT_EQ(session.next(), "echo : dual");
}

TEST(Console, TheLiveViewListsConnectionsAndEvents) {
  ConsoleServer server;
  test::TestClient client(server.echo.port());
  client.send("one\ntwo\n");
  EXPECT_EQ(client.read(22), "echo : one\necho : two\n");
  int status = 0;
  // The worker stores its figures right after its write: wait for them, within the deadline.
  std::string state;
  Poco::Stopwatch clock;
  clock.start();
  do {
    state = get(server.port(), "/console/state", status);
  } while (state.find("\"messages\":2,") == std::string::npos && clock.elapsed() < test::kDeadline.totalMicroseconds());
  EXPECT_EQ(status, 200);
  EXPECT_NE(state.find("\"pool\":{\"busy\":1,"), std::string::npos) << state;
  EXPECT_NE(state.find("\"open\":1,"), std::string::npos) << state;
  EXPECT_NE(state.find("\"listener\":\"plain\""), std::string::npos) << state;
  EXPECT_NE(state.find("\"messages\":2,\"bytesIn\":8,\"bytesOut\":22,\"state\":\"open\""), std::string::npos) << state;
  EXPECT_NE(state.find("\"event\":\"opened\""), std::string::npos) << state;
  EXPECT_NE(state.find("\"masked\":false"), std::string::npos) << "a browser on loopback sees addresses in full";
  EXPECT_NE(state.find("\"peer\":\"127.0.0.1:"), std::string::npos) << state;
}

TEST(Console, AProxiedConnectionShowsItsClientAndTheProxyItCameThrough) {
  ServerSettings settings = testSettings();
  settings.proxyPort = 0;
  ConsoleServer server(settings);
  test::TestClient client(server.echo.server().proxyAddress().port());
  client.send("PROXY TCP4 203.0.113.7 192.0.2.1 5555 4570\r\nvia\n");
  EXPECT_EQ(client.readLine(), "echo : via\n");
  int status = 0;
  const std::string state = get(server.port(), "/console/state", status);
  EXPECT_EQ(status, 200);
  const std::string expected =
      "\"peer\":\"203.0.113.7:5555\",\"proxy\":\"" + client.socket().address().toString() + "\",\"listener\":\"proxy\"";
  EXPECT_NE(state.find(expected), std::string::npos) << state;
  EXPECT_NE(state.find("\"peer\":\"203.0.113.7:5555 via "), std::string::npos)
      << "the opened event names both: " << state;
}

TEST(Console, ABrowserElsewhereSeesMaskedAddresses) {
  ConsoleServer server;
  test::TestClient client(server.echo.port());
  client.send("x\n");
  EXPECT_EQ(client.readLine(), "echo : x\n");
  const std::string state = consoleState(server.echo.server(), Poco::Net::SocketAddress("192.0.2.10", 40000));
  EXPECT_NE(state.find("\"masked\":true"), std::string::npos) << state;
  EXPECT_NE(state.find("\"peer\":\"127.0.*.*\""), std::string::npos) << state;
  EXPECT_EQ(state.find("\"peer\":\"127.0.0.1"), std::string::npos) << "no full client address: " << state;
  ServerSettings shown = testSettings();
  shown.consoleShowAddresses = true;
  ConsoleServer open(shown);
  test::TestClient other(open.echo.port());
  other.send("y\n");
  EXPECT_EQ(other.readLine(), "echo : y\n");
  const std::string full = consoleState(open.echo.server(), Poco::Net::SocketAddress("192.0.2.10", 40000));
  EXPECT_NE(full.find("\"peer\":\"127.0.0.1:"), std::string::npos) << full;
}

TEST(Console, AForeignOriginIsRefused) {
  ConsoleServer server;
  try {
    ConsoleSession session(server.port(), "http://evil.example");
    ADD_FAILURE() << "a WebSocket from another origin was accepted";
  } catch (const Poco::Net::WebSocketException& e) {
    EXPECT_EQ(e.code(), Poco::Net::WebSocket::WS_ERR_NO_HANDSHAKE) << e.displayText();
  }
}

TEST(Console, SessionsAreLimited) {
  ServerSettings settings = testSettings();
  settings.consoleSessions = 1;
  ConsoleServer server(settings);
  ConsoleSession first(server.port());
  first.send("held");
  EXPECT_EQ(first.next(), "echo : held");
  EXPECT_THROW(ConsoleSession second(server.port()), Poco::Net::WebSocketException);
  int status = 0;
  get(server.port(), "/metrics", status);
  EXPECT_EQ(status, 200) << "the admin endpoint keeps threads of its own";
}

TEST(Console, AFrameOverTheLineLimitGetsErrLineTooLong) {
  ServerSettings settings = testSettings();
  settings.session.maxLineLength = 16;
  ConsoleServer server(settings);
  ConsoleSession session(server.port());
  session.send(std::string(17, 'x'));
  EXPECT_EQ(session.next(), "ERR line too long");
  EXPECT_EQ(session.next().rfind("close 1009 ERR line too long", 0), 0U);
}

TEST(Console, TheDrainReachesAConsoleSessionAsFin) {
  ConsoleServer server;
  ConsoleSession session(server.port());
  session.send("before");
  EXPECT_EQ(session.next(), "echo : before");
  auto stopped = std::async(std::launch::async, [&] { return server.echo.server().shutdown(); });
  EXPECT_EQ(session.next(), "FIN");
  EXPECT_EQ(session.next(), "close 1000 FIN");
  EXPECT_TRUE(stopped.get());
}

TEST(Console, OffAnswers404) {
  ServerSettings settings = testSettings();
  settings.console = false;
  ConsoleServer server(settings);
  int status = 0;
  get(server.port(), "/", status);
  EXPECT_EQ(status, 404);
  get(server.port(), "/console/state", status);
  EXPECT_EQ(status, 404);
  get(server.port(), "/healthz", status);
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace echod
