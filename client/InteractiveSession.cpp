#include "client/InteractiveSession.h"

#include <Poco/Exception.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

#include "client/ServerConnector.h"
#include "protocol/LineFramer.h"
#include "protocol/Replies.h"

namespace echod {
namespace {

constexpr std::size_t kReadSize = 64 * 1024;
constexpr std::size_t kMaxReplyLine = 64 << 20;   ///< far above any server's line bound plus prefix
constexpr std::size_t kMaxTypedLine = 64 * 1024;  ///< raw framing: a typed line is cut into 1024-byte messages
constexpr std::size_t kRawTailKeep = 4096;

bool startsWith(std::string_view text, std::string_view head) { return text.substr(0, head.size()) == head; }
bool endsWith(std::string_view text, std::string_view tail) {
  return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

void writeOut(std::string_view bytes) { std::fwrite(bytes.data(), 1, bytes.size(), stdout); }

}  // namespace

int exitStatus(SessionEnd end) {
  switch (end) {
    case SessionEnd::Fin:
    case SessionEnd::Closed:
      return 0;
    case SessionEnd::Error:
    case SessionEnd::Broken:
      return 1;
  }
  return 1;
}

InteractiveSession::InteractiveSession(Poco::Net::StreamSocket socket, const ClientSettings& settings)
    : _socket(std::move(socket)), _settings(settings), _lastReceived(std::chrono::steady_clock::now()) {
  if (::pipe2(_wakePipe, O_CLOEXEC) != 0) throw Poco::SystemException("pipe2", errno);
  _receiver = std::thread([this] { receive(); });
}

InteractiveSession::~InteractiveSession() {
  try {
    _socket.shutdown();  // wakes the receiver if it still waits for the server
  } catch (const Poco::Exception&) {
    // Already disconnected: the receiver has seen that too.
  }
  _receiver.join();
  ::close(_wakePipe[0]);
  ::close(_wakePipe[1]);
}

void InteractiveSession::receive() {
  LineFramer framer(kMaxReplyLine);
  std::vector<char> buffer(kReadSize);
  std::string lastLine;  // raw framing: to recognise an ERR line
  SessionEnd end = SessionEnd::Closed;
  try {
    for (;;) {
      const int n = _socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) break;
      const std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
      noteReceived(chunk);
      if (_settings.framing == Framing::Raw) {
        writeOut(chunk);
        std::fflush(stdout);
        continue;
      }
      bool over = false;
      framer.feed(chunk, [&](std::string_view line) {
        writeOut(line);
        writeOut("\n");
        if (line == kFin) {
          end = SessionEnd::Fin;
          over = true;
        } else if (startsWith(line, kErrPrefix)) {
          end = SessionEnd::Error;
          std::cerr << "echo-client: server reported an error: " << line.substr(kErrPrefix.size()) << '\n';
          over = true;
        }
        return !over;
      });
      std::fflush(stdout);
      if (framer.lineTooLong()) {
        std::cerr << "echo-client: a reply line is longer than " << kMaxReplyLine << " bytes\n";
        end = SessionEnd::Broken;
        over = true;
      }
      if (over) break;
    }
    if (auto rest = framer.finish(); rest && end == SessionEnd::Closed) {
      writeOut(*rest);
      writeOut("\n");
    }
  } catch (const Poco::Exception& e) {
    if (!ended()) {
      std::cerr << "echo-client: connection lost: " << e.displayText() << '\n';
      end = SessionEnd::Broken;
    }
  }
  if (_settings.framing == Framing::Raw && end == SessionEnd::Closed) {
    // Raw framing has no lines: judge by how the stream ended.
    std::lock_guard<std::mutex> lock(_mutex);
    if (endsWith(_rawTail, kFin)) {
      end = SessionEnd::Fin;
    } else if (endsWith(_rawTail, "\n")) {
      const std::string_view body = std::string_view(_rawTail).substr(0, _rawTail.size() - 1);
      const auto start = body.rfind('\n');
      if (startsWith(body.substr(start == std::string_view::npos ? 0 : start + 1), kErrPrefix)) {
        end = SessionEnd::Error;
      }
    }
    if (!_rawTail.empty() && _rawTail.back() != '\n') writeOut("\n");  // leave the terminal tidy
  }
  std::fflush(stdout);
  if (end == SessionEnd::Closed) std::cerr << "echo-client: connection closed by server\n";
  finishReceiving(end);
}

void InteractiveSession::noteReceived(std::string_view bytes) {
  std::lock_guard<std::mutex> lock(_mutex);
  _lastReceived = std::chrono::steady_clock::now();
  if (_settings.framing == Framing::Raw) {
    _rawTail.append(bytes);
    if (_rawTail.size() > kRawTailKeep) _rawTail.erase(0, _rawTail.size() - kRawTailKeep);
  }
  _changed.notify_all();
}

void InteractiveSession::finishReceiving(SessionEnd end) {
  {
    std::lock_guard<std::mutex> lock(_mutex);
    _end = end;
    _ended.store(true, std::memory_order_release);
  }
  _changed.notify_all();
  const char wake = 'x';
  [[maybe_unused]] const auto written = ::write(_wakePipe[1], &wake, 1);
}

SessionEnd InteractiveSession::waitForEnd() {
  const auto timeout = std::chrono::microseconds(_settings.timeout.totalMicroseconds());
  std::unique_lock<std::mutex> lock(_mutex);
  for (;;) {
    if (_ended.load(std::memory_order_acquire)) return _end;
    const auto deadline = _lastReceived + timeout;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::cerr << "echo-client: no reply within " << _settings.timeout.totalMilliseconds() / 1000.0
                << " s; giving up\n";
      _ended.store(true, std::memory_order_release);
      return SessionEnd::Broken;
    }
    _changed.wait_until(lock, deadline);
  }
}

void InteractiveSession::sendMessage(std::string_view message) {
  if (_settings.framing == Framing::Line) {
    sendAll(_socket, message);
    return;
  }
  // Raw framing: one message per read on the server. Wait for each echo
  // before the next, or TCP could merge two messages into one read.
  const auto timeout = std::chrono::microseconds(_settings.timeout.totalMicroseconds());
  while (!message.empty()) {
    const std::string_view piece = message.substr(0, EchoSession::kRawMessageSize);
    message.remove_prefix(piece.size());
    {
      std::lock_guard<std::mutex> lock(_mutex);
      _rawTail.clear();
    }
    sendAll(_socket, piece);
    std::unique_lock<std::mutex> lock(_mutex);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    _changed.wait_until(lock, deadline, [&] { return ended() || endsWith(_rawTail, piece); });
    if (ended() || !endsWith(_rawTail, piece)) return;
  }
}

SessionEnd InteractiveSession::runWithInput(int input) {
  std::vector<char> buffer(kReadSize);
  LineFramer typed(kMaxTypedLine);
  try {
    for (;;) {
      pollfd fds[2] = {{input, POLLIN, 0}, {_wakePipe[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[1].revents != 0) break;  // the server ended the session
      const ssize_t n = ::read(input, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // end of input: say so to the server, then wait for its last replies
        if (_settings.framing == Framing::Raw) {
          if (auto rest = typed.finish()) sendMessage(*rest);
        } else {
          _socket.shutdownSend();
        }
        break;
      }
      const std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
      if (_settings.framing == Framing::Line) {
        sendAll(_socket, chunk);  // bytes as typed: the server does the framing
        continue;
      }
      typed.feed(chunk, [&](std::string_view line) {
        if (!line.empty()) sendMessage(line);
        return !ended();
      });
      if (typed.lineTooLong()) {
        std::cerr << "echo-client: typed line longer than " << kMaxTypedLine << " bytes\n";
        break;
      }
    }
  } catch (const Poco::Exception& e) {
    if (!ended()) std::cerr << "echo-client: cannot send: " << e.displayText() << '\n';
  }
  return waitForEnd();
}

SessionEnd InteractiveSession::runWithMessages(const std::vector<std::string>& messages) {
  try {
    if (_settings.framing == Framing::Line) {
      std::string script;
      for (const auto& message : messages) script.append(message).push_back('\n');
      script.append(kExitMessage).push_back('\n');
      sendAll(_socket, script);
    } else {
      for (const auto& message : messages) {
        if (ended()) break;
        if (!message.empty()) sendMessage(message);
      }
      if (!ended()) sendAll(_socket, kExitMessage);
    }
  } catch (const Poco::Exception& e) {
    if (!ended()) std::cerr << "echo-client: cannot send: " << e.displayText() << '\n';
  }
  return waitForEnd();
}

}  // namespace echod
