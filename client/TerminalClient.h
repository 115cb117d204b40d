#pragma once

#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/ClientSettings.h"
#include "protocol/ReplyReader.h"

struct ssl_st;

namespace echod {

/// How a session ended, and so the exit status (docs/protocol.md, "The client's contract").
enum class SessionEnd {
  Fin,     ///< the server sent FIN: 0
  Closed,  ///< the server closed cleanly: 0
  Error,   ///< the server sent an ERR line: 1
  Broken,  ///< reset, or no reply within the timeout: 1
};
int exitStatus(SessionEnd end);

/// The classroom client's idea as a terminal tool, for both interactive use
/// and --send: a receiving thread prints every reply on stdout as it arrives,
/// while the calling thread sends what the user types (or the --send messages).
/// Replies are decoded by the protocol core's ReplyReader. Either side may end it: the
/// user with end of input (half-close, then wait for the last replies), or
/// the server with FIN, ERR or close, which ends the session at once, even
/// while the user is not typing.
class TerminalClient {
 public:
  TerminalClient(const Poco::Net::StreamSocket& socket, const ClientSettings& settings);
  ~TerminalClient();

  TerminalClient(const TerminalClient&) = delete;
  TerminalClient& operator=(const TerminalClient&) = delete;

  /// Sends what arrives on file descriptor `input` until its end or the server's.
  SessionEnd runWithInput(int input);

  /// Sends each message as a line (raw framing: as one message), then `exit`.
  SessionEnd runWithMessages(const std::vector<std::string>& messages);

 private:
  void receive();
  /// Decodes and prints what arrived; false once the server ended the session.
  bool take(std::string_view bytes);
  bool print(const Reply& reply);
  void finishReceiving(SessionEnd end);
  void sendMessage(std::string_view message);
  /// The socket's I/O, safe from both threads. On TLS one OpenSSL connection
  /// must not be used by two threads at once: the receiver takes the lock
  /// only once bytes are there, and both give it up within kTlsSlice.
  int receiveSome(char* buffer, int size);
  void send(std::string_view bytes);
  void halfClose();
  SessionEnd waitForEnd();
  bool ended() const { return _ended.load(std::memory_order_acquire); }

  Poco::Net::StreamSocket _socket;
  const ClientSettings& _settings;
  ssl_st* _ssl = nullptr;       ///< the TLS connection, for close_notify; null on plain TCP
  std::mutex _io;               ///< TLS only: one thread in OpenSSL at a time
  int _wakePipe[2] = {-1, -1};  ///< the receiver writes here so a poll() on stdin wakes
  std::thread _receiver;

  mutable std::mutex _mutex;
  std::condition_variable _changed;
  std::atomic<bool> _ended{false};
  SessionEnd _end = SessionEnd::Closed;
  ReplyReader _reader;  ///< fed by the receiver; told the awaited echo by the sender (raw framing)
  bool _lastByteWasNewline = true;
  std::chrono::steady_clock::time_point _lastReceived;
};

}  // namespace echod
