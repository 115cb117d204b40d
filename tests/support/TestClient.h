#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Stopwatch.h>
#include <Poco/Thread.h>
#include <Poco/Timespan.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace echod::test {

inline const Poco::Timespan kDeadline(10, 0);  ///< how long any test waits for bytes that must come

/// Waits, within kDeadline, until `done` holds; false if it never did.
/// Polling a condition with a deadline, not ordering by sleep.
template <typename Condition>
bool eventually(Condition done) {
  Poco::Stopwatch clock;
  clock.start();
  while (!done()) {
    if (clock.elapsed() > kDeadline.totalMicroseconds()) return false;
    Poco::Thread::sleep(5);
  }
  return true;
}

/// A plain TCP client for tests: writes bytes, reads with a deadline, and
/// never blocks forever. Reads return what arrived; a test asserts on it.
class TestClient {
 public:
  explicit TestClient(std::uint16_t port, const std::string& host = "127.0.0.1");
  /// Over a connection made elsewhere, such as a TLS one (TlsSupport.h).
  explicit TestClient(const Poco::Net::StreamSocket& connected) : _socket(connected) {}

  void send(std::string_view bytes);
  /// Exactly `size` bytes, or fewer if the server closed or the deadline passed.
  std::string read(std::size_t size, Poco::Timespan timeout = kDeadline);
  /// Up to and including the next '\n' (or what came before close/deadline).
  std::string readLine(Poco::Timespan timeout = kDeadline);
  /// Everything until the server closes; `closed` says whether it did in time
  /// (with an orderly FIN or a reset: wasReset() tells which).
  std::string readUntilClosed(bool& closed, Poco::Timespan timeout = kDeadline);
  /// Shorthand: everything until close, failing the test unless the server
  /// closed in time with an orderly FIN (a reset fails it too).
  std::string readAll(Poco::Timespan timeout = kDeadline);
  /// True once a read saw a reset instead of the server's FIN.
  bool wasReset() const { return _reset; }
  /// TLS: true once the server's TCP close came without a close_notify before it.
  bool tlsClosedUncleanly() const { return _tlsUnclean; }
  /// Sends empty lines, never reading, until no byte has gone out for a
  /// second: the server's worker is then stuck writing replies nobody reads.
  /// Returns the bytes sent (bounded: at most 128 MiB).
  std::size_t sendUntilStuck();
  void halfClose();
  /// Close with SO_LINGER 0: the peer sees a reset.
  void reset();
  Poco::Net::StreamSocket& socket() { return _socket; }

 private:
  bool fill(Poco::Timespan left);
  Poco::Net::StreamSocket _socket;
  std::string _buffered;
  bool _eof = false;
  bool _reset = false;
  bool _tlsUnclean = false;
};

/// One line over a fresh connection: the reply line, or what came before close/deadline.
std::string roundTrip(std::uint16_t port, const std::string& line, Poco::Timespan timeout = kDeadline);

/// A loopback port free now, for a program that must be told its port
/// (HAProxy, an admin endpoint): taken below the kernel's ephemeral range
/// (32768 and up), where no connect() and no port-0 listener of a parallel
/// test can take it before the program binds it.
std::uint16_t freeFixedPort();

}  // namespace echod::test
