#include "service/admin/ConsoleRelay.h"

#include <Poco/Buffer.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/WebSocket.h>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>

#include "protocol/LineFramer.h"

namespace echod {
namespace {

const Poco::Timespan kConnectTimeout(2, 0);
const Poco::Timespan kFrameTimeout(10, 0);  ///< the rest of a frame once its first bytes came

void refuse(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
            const std::string& why) {
  response.setStatusAndReason(status);
  response.setContentType("text/plain; charset=utf-8");
  response.send() << why << '\n';
}

/// Waits until either descriptor is readable, at most `ms`; which ones are in `ready`.
void waitReadable(int a, int b, int ms, bool ready[2]) {
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  const int rc = ::poll(fds, 2, ms);
  ready[0] = rc > 0 && fds[0].revents != 0;
  ready[1] = rc > 0 && fds[1].revents != 0;
}

/// One browser session: its WebSocket and its echo connection.
class Relay {
 public:
  Relay(Poco::Net::WebSocket& ws, Poco::Net::StreamSocket& echo, const ServerSettings& settings,
        const std::atomic<bool>& stopping)
      : _ws(ws),
        _echo(echo),
        _settings(settings),
        _stopping(stopping),
        _replies(settings.session.maxLineLength + settings.session.prefix.size() + 64) {}

  void run() {
    bool ready[2] = {false, false};
    while (!_stopping.load(std::memory_order_acquire)) {
      waitReadable(_ws.impl()->sockfd(), _echo.impl()->sockfd(), ConsoleSocketHandler::kSessionPollMs, ready);
      if (ready[1] && !fromServer()) return;
      if (ready[0] && !fromBrowser()) return;
    }
    close(Poco::Net::WebSocket::WS_ENDPOINT_GOING_AWAY, "console stopping");
  }

 private:
  /// False once the session is over.
  bool fromBrowser() {
    int flags = 0;
    int n = 0;
    try {
      n = _ws.receiveFrame(_frame, flags);
    } catch (const Poco::Net::WebSocketException& e) {
      if (e.code() == Poco::Net::WebSocket::WS_ERR_PAYLOAD_TOO_BIG) {
        // As the server would answer such a line, and without sending it the whole way.
        sendLine(errorReply(ErrorReason::LineTooLong));
        close(Poco::Net::WebSocket::WS_PAYLOAD_TOO_BIG, "ERR line too long");
      }
      return false;
    }
    // receiveFrame() appends to the buffer: take this frame's bytes and empty it for the next.
    const std::string payload(_frame.begin(), static_cast<std::size_t>(std::max(n, 0)));
    _frame.resize(0);
    const int op = flags & Poco::Net::WebSocket::FRAME_OP_BITMASK;
    if (n == 0 && flags == 0) return false;  // the browser went away
    if (op == Poco::Net::WebSocket::FRAME_OP_CLOSE) {
      close(Poco::Net::WebSocket::WS_NORMAL_CLOSE, "disconnected");
      return false;
    }
    if (op == Poco::Net::WebSocket::FRAME_OP_PING) {
      constexpr int kPong = static_cast<int>(Poco::Net::WebSocket::FRAME_FLAG_FIN) |
                            static_cast<int>(Poco::Net::WebSocket::FRAME_OP_PONG);
      _ws.sendFrame(payload.data(), static_cast<int>(payload.size()), kPong);
      return true;
    }
    if (op == Poco::Net::WebSocket::FRAME_OP_PONG) return true;
    _pending += payload;
    if (_pending.size() > _settings.session.maxLineLength) {
      sendLine(errorReply(ErrorReason::LineTooLong));
      close(Poco::Net::WebSocket::WS_PAYLOAD_TOO_BIG, "ERR line too long");
      return false;
    }
    if ((flags & Poco::Net::WebSocket::FRAME_FLAG_FIN) == 0) return true;  // more fragments follow
    if (_settings.session.framing == Framing::Line) _pending.push_back('\n');
    try {
      std::string_view bytes(_pending);
      while (!bytes.empty()) {
        const int sent = _echo.sendBytes(bytes.data(), static_cast<int>(bytes.size()), MSG_NOSIGNAL);
        bytes.remove_prefix(static_cast<std::size_t>(sent));
      }
    } catch (const Poco::Exception&) {
      // The server closed; its last words are read next.
    }
    _pending.clear();
    return true;
  }

  bool fromServer() {
    char buffer[16 * 1024];
    int n = 0;
    try {
      n = _echo.receiveBytes(buffer, sizeof buffer);
    } catch (const Poco::Exception&) {
      n = -1;
    }
    if (n <= 0) {
      // Closed by the server: its last line (FIN, ERR ...) says why, a reset says "connection lost".
      close(Poco::Net::WebSocket::WS_NORMAL_CLOSE,
            n == 0 ? (_lastLine.empty() ? "closed by server" : _lastLine) : "connection lost");
      return false;
    }
    const std::string_view bytes(buffer, static_cast<std::size_t>(n));
    if (_settings.session.framing == Framing::Raw) {
      sendLine(bytes);  // raw framing has no lines: one frame per read
      return true;
    }
    _replies.feed(bytes, [this](std::string_view line) {
      sendLine(line);
      return true;
    });
    return !_replies.lineTooLong();
  }

  /// One frame; the line's own '\n' (an ERR reply made here has one) is not part of it.
  void sendLine(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    // Only a short last line can become the close frame's reason (FIN, ERR ...).
    _lastLine = line.size() <= 120 ? std::string(line) : std::string();
    _ws.sendFrame(line.data(), static_cast<int>(line.size()), Poco::Net::WebSocket::FRAME_TEXT);
  }

  void close(Poco::UInt16 code, const std::string& reason) {
    try {
      _ws.shutdown(code, reason.substr(0, 120));  // a close frame's reason is at most 123 bytes
    } catch (const Poco::Exception&) {
      // The browser is gone already.
    }
  }

  Poco::Net::WebSocket& _ws;
  Poco::Net::StreamSocket& _echo;
  const ServerSettings& _settings;
  const std::atomic<bool>& _stopping;
  LineFramer _replies;
  Poco::Buffer<char> _frame{0};
  std::string _pending;  ///< a fragmented frame so far
  std::string _lastLine;
};

}  // namespace

Poco::Net::SocketAddress consoleEchoTarget(const EchoServer& echo) {
  const Poco::Net::SocketAddress bound = echo.address();
  // A wildcard listener takes IPv4 clients on "::" too (listeningSocket: not
  // IPv6-only), and 127.0.0.1 exists where ::1 may not (a container on
  // Docker's default network has no IPv6 address).
  if (bound.host().isWildcard()) return Poco::Net::SocketAddress("127.0.0.1", bound.port());
  return bound;
}

void ConsoleSocketHandler::handleRequest(Poco::Net::HTTPServerRequest& request,
                                         Poco::Net::HTTPServerResponse& response) {
  // A page from another site must not drive this server through the visitor's browser.
  const std::string origin = request.get("Origin", "");
  if (origin != "http://" + request.getHost()) {
    return refuse(response, Poco::Net::HTTPResponse::HTTP_FORBIDDEN,
                  "origin '" + origin + "' is not this console's (http://" + request.getHost() + ")");
  }
  if (_sessions.running.fetch_add(1) >= _sessions.limit) {
    _sessions.running.fetch_sub(1);
    return refuse(response, Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
                  "console sessions full (echo.consoleSessions = " + std::to_string(_sessions.limit) + ")");
  }
  struct Leave {
    std::atomic<int>& running;
    ~Leave() { running.fetch_sub(1); }
  } leave{_sessions.running};
  std::optional<Poco::Net::WebSocket> ws;
  try {
    ws.emplace(request, response);
  } catch (const Poco::Net::WebSocketException& e) {
    if (!response.sent()) refuse(response, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST, e.message());
    return;
  }
  const ServerSettings& settings = _echo.settings();
  ws->setMaxPayloadSize(static_cast<int>(settings.session.maxLineLength));
  ws->setReceiveTimeout(kFrameTimeout);
  ws->setSendTimeout(kFrameTimeout);
  Poco::Net::StreamSocket echo;
  try {
    echo.connect(consoleEchoTarget(_echo), kConnectTimeout);
    echo.setNoDelay(true);
    echo.setSendTimeout(kFrameTimeout);
  } catch (const Poco::Exception& e) {
    try {
      ws->shutdown(Poco::Net::WebSocket::WS_UNEXPECTED_CONDITION, "cannot reach the echo port");
    } catch (const Poco::Exception&) {
      // The browser left meanwhile.
    }
    return;
  }
  try {
    Relay(*ws, echo, settings, _sessions.stopping).run();
  } catch (const Poco::Exception&) {
    // The browser or the server went away mid-frame: the session is over either way.
  }
  try {
    echo.close();
  } catch (const Poco::Exception&) {
    // Already reset.
  }
}

}  // namespace echod
