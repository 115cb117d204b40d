#include "service/connection/SocketEndings.h"

#include <Poco/Exception.h>
#include <Poco/Stopwatch.h>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>

namespace echod {

void refuseSocket(Poco::Net::StreamSocket& socket, ErrorReason reason) {
  std::size_t discardBudget = 64 * 1024;  ///< unread input dropped, so our close is not a reset
  const int fd = socket.impl()->sockfd();
  if (fd < 0) return;
  if (!socket.secure()) {
    // Nothing was ever written to this socket: its send buffer is empty.
    const std::string_view reply = errorReply(reason);
    [[maybe_unused]] const auto sent = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::shutdown(fd, SHUT_WR);
  std::array<char, 4096> sink{};
  discardArrived(fd, discardBudget, sink.data(), sink.size());
}

bool discardArrived(int fd, std::size_t& budget, char* sink, std::size_t sinkSize) {
  // Bounded by the budget: each pass discards at least one byte or ends.
  while (budget > 0) {
    const ssize_t n = ::recv(fd, sink, std::min(sinkSize, budget), MSG_DONTWAIT);
    if (n > 0) {
      budget -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));  // 0: closed; other errors: reset or gone
  }
  return true;
}

void lingerOnThisThread(Poco::Net::StreamSocket& socket, const Poco::Timespan& time, std::size_t bytes, char* sink,
                        std::size_t sinkSize) {
  try {
    socket.setReceiveTimeout(time);
  } catch (const Poco::Exception&) {
    return;  // the peer is gone already
  }
  const int fd = socket.impl()->sockfd();
  Poco::Stopwatch elapsed;
  elapsed.start();
  std::size_t discarded = 0;
  while (discarded < bytes && elapsed.elapsed() < time.totalMicroseconds()) {
    const ssize_t n = ::recv(fd, sink, sinkSize, 0);
    if (n <= 0) break;  // the client closed, reset, or stayed silent past the linger time
    discarded += static_cast<std::size_t>(n);
  }
}

}  // namespace echod
