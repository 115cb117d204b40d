#include "client/TerminalClient.h"

#include <Poco/Exception.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

#include "client/ServerConnector.h"
#include "protocol/LineFramer.h"

namespace echod {
namespace {

constexpr std::size_t kReadSize = 64 * 1024;
constexpr std::size_t kMaxReplyLine = 64 << 20;   ///< far above any server's line bound plus prefix
constexpr std::size_t kMaxTypedLine = 64 * 1024;  ///< raw framing: a typed line is cut into 1024-byte messages

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

TerminalClient::TerminalClient(const Poco::Net::StreamSocket& socket, const ClientSettings& settings)
    : _socket(socket),
      _settings(settings),
      _reader(settings.framing, settings.prefix, kMaxReplyLine),
      _lastReceived(std::chrono::steady_clock::now()) {
  if (::pipe2(_wakePipe, O_CLOEXEC) != 0) throw Poco::SystemException("pipe2", errno);
  _receiver = std::thread([this] { receive(); });
}

TerminalClient::~TerminalClient() {
  try {
    _socket.shutdown();  // wakes the receiver if it still waits for the server
  } catch (const Poco::Exception&) {
    // Already disconnected: the receiver has seen that too.
  }
  _receiver.join();
  ::close(_wakePipe[0]);
  ::close(_wakePipe[1]);
}

void TerminalClient::receive() {
  std::vector<char> buffer(kReadSize);
  bool lost = false;
  try {
    for (;;) {
      const int n = _socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0 || !take(std::string_view(buffer.data(), static_cast<std::size_t>(n)))) break;
    }
  } catch (const Poco::Exception& e) {
    if (!ended()) {
      std::cerr << "echo-client: connection lost: " << e.displayText() << '\n';
      lost = true;
    }
  }
  ReplyReader::End how;
  {
    std::lock_guard<std::mutex> lock(_mutex);
    how = _reader.finish([this](const Reply& reply) { return print(reply); });
  }
  if (!_lastByteWasNewline) writeOut("\n");  // raw framing: leave the terminal tidy
  std::fflush(stdout);
  SessionEnd end = SessionEnd::Closed;
  switch (how) {
    case ReplyReader::End::Fin:
      end = SessionEnd::Fin;
      break;
    case ReplyReader::End::Error:
      std::cerr << "echo-client: server reported an error: " << _reader.errorReason() << '\n';
      end = SessionEnd::Error;
      break;
    case ReplyReader::End::Broken:
      if (!lost)
        std::cerr << "echo-client: the server's last reply was cut off, or longer than " << kMaxReplyLine << " bytes\n";
      end = SessionEnd::Broken;
      break;
    case ReplyReader::End::Open:
    case ReplyReader::End::Closed:
      if (!lost) std::cerr << "echo-client: connection closed by server\n";
      end = lost ? SessionEnd::Broken : SessionEnd::Closed;
      break;
  }
  finishReceiving(end);
}

bool TerminalClient::print(const Reply& reply) {
  if (_settings.framing == Framing::Line) {  // raw bytes were printed as they came
    writeOut(reply.bytes);
    writeOut("\n");
  }
  return true;
}

bool TerminalClient::take(std::string_view bytes) {
  if (_settings.framing == Framing::Raw) {
    writeOut(bytes);  // raw framing has no lines: print as it comes
    _lastByteWasNewline = bytes.back() == '\n';
  }
  std::lock_guard<std::mutex> lock(_mutex);
  _lastReceived = std::chrono::steady_clock::now();
  _reader.feed(bytes, [this](const Reply& reply) { return print(reply); });
  std::fflush(stdout);
  _changed.notify_all();
  return _reader.end() == ReplyReader::End::Open;
}

void TerminalClient::finishReceiving(SessionEnd end) {
  {
    std::lock_guard<std::mutex> lock(_mutex);
    _end = end;
    _ended.store(true, std::memory_order_release);
  }
  _changed.notify_all();
  const char wake = 'x';
  [[maybe_unused]] const auto written = ::write(_wakePipe[1], &wake, 1);
}

SessionEnd TerminalClient::waitForEnd() {
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

void TerminalClient::sendMessage(std::string_view message) {
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
      _reader.expect(piece);
    }
    sendAll(_socket, piece);
    std::unique_lock<std::mutex> lock(_mutex);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (!_changed.wait_until(lock, deadline, [&] { return ended() || !_reader.expecting(); }) || ended()) return;
  }
}

SessionEnd TerminalClient::runWithInput(int input) {
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

SessionEnd TerminalClient::runWithMessages(const std::vector<std::string>& messages) {
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
