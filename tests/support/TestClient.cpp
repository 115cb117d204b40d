#include "TestClient.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Stopwatch.h>
#include <gtest/gtest.h>

#include <Poco/Net/ServerSocket.h>

#include <sys/socket.h>
#include <unistd.h>

namespace echod::test {

TestClient::TestClient(std::uint16_t port, const std::string& host) {
  _socket.connect(Poco::Net::SocketAddress(host, port), kDeadline);
  _socket.setNoDelay(true);
}

void TestClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const int n = _socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()), MSG_NOSIGNAL);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool TestClient::fill(Poco::Timespan left) {
  if (_eof || left.totalMicroseconds() <= 0) return false;
  char buffer[65536];
  _socket.setReceiveTimeout(left);
  try {
    const int n = _socket.receiveBytes(buffer, sizeof buffer);
    if (n <= 0) {
      _eof = true;
      return false;
    }
    _buffered.append(buffer, static_cast<std::size_t>(n));
    return true;
  } catch (const Poco::TimeoutException&) {
    return false;
  } catch (const Poco::Net::ConnectionResetException&) {
    _eof = true;
    _reset = true;
    return false;
  } catch (const Poco::Net::SSLException&) {
    // POCO's TLS client: the server closed TCP without close_notify.
    _eof = true;
    _tlsUnclean = true;
    return false;
  }
}

std::string TestClient::read(std::size_t size, Poco::Timespan timeout) {
  Poco::Stopwatch clock;
  clock.start();
  while (_buffered.size() < size && fill(timeout.totalMicroseconds() - clock.elapsed())) {
  }
  const std::string out = _buffered.substr(0, size);
  _buffered.erase(0, out.size());
  return out;
}

std::string TestClient::readLine(Poco::Timespan timeout) {
  Poco::Stopwatch clock;
  clock.start();
  while (_buffered.find('\n') == std::string::npos && fill(timeout.totalMicroseconds() - clock.elapsed())) {
  }
  const auto end = _buffered.find('\n');
  const std::string out = _buffered.substr(0, end == std::string::npos ? end : end + 1);
  _buffered.erase(0, out.size());
  return out;
}

std::string TestClient::readUntilClosed(bool& closed, Poco::Timespan timeout) {
  Poco::Stopwatch clock;
  clock.start();
  while (fill(timeout.totalMicroseconds() - clock.elapsed())) {
  }
  closed = _eof;
  std::string out;
  out.swap(_buffered);
  return out;
}

std::string TestClient::readAll(Poco::Timespan timeout) {
  bool closed = false;
  std::string out = readUntilClosed(closed, timeout);
  EXPECT_TRUE(closed) << "the server did not close; got '" << out << "'";
  EXPECT_FALSE(_reset) << "the server reset the connection instead of closing it; got '" << out << "'";
  return out;
}

std::size_t TestClient::sendUntilStuck() {
  _socket.setSendTimeout(Poco::Timespan(1, 0));
  const std::string lines(64 * 1024, '\n');
  std::size_t sent = 0;
  try {
    for (int i = 0; i < 2048; ++i) {
      send(lines);
      sent += lines.size();
    }
  } catch (const Poco::IOException&) {
    // Our send timed out: both directions are full now.
  }
  return sent;
}

void TestClient::halfClose() { _socket.shutdownSend(); }

void TestClient::reset() {
  _socket.setLinger(true, 0);
  _socket.close();
}

std::string roundTrip(std::uint16_t port, const std::string& line, Poco::Timespan timeout) {
  TestClient client(port);
  client.send(line + "\n");
  return client.readLine(timeout);
}

std::uint16_t freeFixedPort() {
  // Spread over 20000-31999 by process id, so parallel test processes start apart.
  static unsigned next = 20000 + static_cast<unsigned>(::getpid()) % 6000 * 2;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto port = static_cast<std::uint16_t>(next);
    next = next >= 31999 ? 20000 : next + 1;
    try {
      Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", port), 1);
      return port;
    } catch (const Poco::Exception&) {
      // taken: the next one
    }
  }
  ADD_FAILURE() << "no free loopback port in 20000-31999";
  return 0;
}

}  // namespace echod::test
