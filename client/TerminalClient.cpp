#include "client/TerminalClient.h"

#include <Poco/Exception.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

#include "client/ServerConnector.h"
#include "protocol/LineFramer.h"
#include "tls/TlsContext.h"

namespace echod {
namespace {

constexpr std::size_t kReadSize = 64 * 1024;
constexpr std::size_t kMaxReplyLine = 64 << 20;   ///< far above any server's line bound plus prefix
constexpr std::size_t kMaxTypedLine = 64 * 1024;  ///< raw framing: a typed line is cut into 1024-byte messages
/// TLS: the longest either thread holds the connection while the other waits.
const Poco::Timespan kTlsSlice(0, 100000);

/// Waits until `fd` is readable, at most `ms` (-1: no limit).
bool readable(int fd, int ms) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, ms) > 0;
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

TerminalClient::TerminalClient(const Poco::Net::StreamSocket& socket, const ClientSettings& settings)
    : _socket(socket),
      _settings(settings),
      _reader(settings.framing, settings.prefix, kMaxReplyLine),
      _lastReceived(std::chrono::steady_clock::now()) {
  if (::pipe2(_wakePipe, O_CLOEXEC) != 0) throw Poco::SystemException("pipe2", errno);
  if (_socket.secure()) {
    _ssl = tls::handleOf(_socket);  // the handshake ran on this thread, just before
    _socket.setReceiveTimeout(kTlsSlice);
    _socket.setSendTimeout(kTlsSlice);
  }
  _receiver = std::thread([this] { receive(); });
}

TerminalClient::~TerminalClient() {
  // Wakes the receiver if it still waits for the server. On the descriptor:
  // POCO's TLS shutdown would enter OpenSSL beside the receiver.
  ::shutdown(_socket.impl()->sockfd(), SHUT_RDWR);
  _receiver.join();
  ::close(_wakePipe[0]);
  ::close(_wakePipe[1]);
}

void TerminalClient::receive() {
  std::vector<char> buffer(kReadSize);
  bool lost = false;
  try {
    for (;;) {
      const int n = receiveSome(buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0 || !take(std::string_view(buffer.data(), static_cast<std::size_t>(n)))) break;
    }
  } catch (const Poco::Exception& e) {
    if (!ended()) {
      std::cerr << "echo-client: connection lost: " << e.displayText() << tls::clientCertificateHint(e.displayText())
                << '\n';
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

int TerminalClient::receiveSome(char* buffer, int size) {
  if (!_socket.secure()) return _socket.receiveBytes(buffer, size);
  const int fd = _socket.impl()->sockfd();
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(_io);
      if (_socket.available() > 0 || readable(fd, 0)) {
        try {
          return _socket.receiveBytes(buffer, size);
        } catch (const Poco::TimeoutException&) {
          // Part of a record, or a message that is not data: let the sender in, then go on.
        }
      }
    }
    readable(fd, static_cast<int>(kTlsSlice.totalMilliseconds()));
  }
}

void TerminalClient::send(std::string_view bytes) {
  if (!_socket.secure()) return sendAll(_socket, bytes);
  while (!bytes.empty()) {
    std::lock_guard<std::mutex> lock(_io);
    try {
      const int sent = _socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
      if (sent > 0) bytes.remove_prefix(static_cast<std::size_t>(sent));
    } catch (const Poco::TimeoutException&) {
      // The server is not reading until we read its replies: let the receiver in.
    }
  }
}

void TerminalClient::halfClose() {
  if (!_socket.secure()) return _socket.shutdownSend();
  std::lock_guard<std::mutex> lock(_io);
  tls::sendCloseNotify(_ssl);  // TLS's end of input; replies can still arrive
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
    send(message);
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
    send(piece);
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
          halfClose();
        }
        break;
      }
      const std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
      if (_settings.framing == Framing::Line) {
        send(chunk);  // bytes as typed: the server does the framing
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
    if (!ended()) {
      std::cerr << "echo-client: cannot send: " << e.displayText() << tls::clientCertificateHint(e.displayText())
                << '\n';
    }
  }
  return waitForEnd();
}

SessionEnd TerminalClient::runWithMessages(const std::vector<std::string>& messages) {
  try {
    if (_settings.framing == Framing::Line) {
      std::string script;
      for (const auto& message : messages) script.append(message).push_back('\n');
      script.append(kExitMessage).push_back('\n');
      send(script);
    } else {
      for (const auto& message : messages) {
        if (ended()) break;
        if (!message.empty()) sendMessage(message);
      }
      if (!ended()) send(kExitMessage);
    }
  } catch (const Poco::Exception& e) {
    if (!ended()) {
      std::cerr << "echo-client: cannot send: " << e.displayText() << tls::clientCertificateHint(e.displayText())
                << '\n';
    }
  }
  return waitForEnd();
}

}  // namespace echod
