#include "service/core/ListeningSocket.h"

#include <Poco/Exception.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocketImpl.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocketImpl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <utility>

namespace echod {
namespace {

/// An accepted socket that keeps its peer's address from accept(2).
class AcceptedSocketImpl : public Poco::Net::StreamSocketImpl {
 public:
  AcceptedSocketImpl(poco_socket_t fd, const sockaddr* peer, socklen_t peerSize)
      : StreamSocketImpl(fd), _peer(peer, peerSize) {}
  const Poco::Net::SocketAddress& peer() const { return _peer; }

 protected:
  ~AcceptedSocketImpl() override = default;

 private:
  const Poco::Net::SocketAddress _peer;
};

/// A listening socket whose readiness wait is a plain poll(2), and whose
/// accepted sockets remember their peer (POCO's drop it). In a burst, when
/// the last accept(2) found a connection, the next readiness wait first
/// tries accept(2) itself (the socket is non-blocking) and keeps what it
/// gets: one system call a connection instead of a poll(2) and an accept(2).
/// Only the acceptor thread (POCO's TCPServer) calls these.
class ListeningSocketImpl : public Poco::Net::ServerSocketImpl {
 public:
  Poco::Net::SocketImpl* acceptConnection(Poco::Net::SocketAddress& clientAddr) override {
    if (sockfd() == POCO_INVALID_SOCKET) throw Poco::Net::InvalidSocketException();
    if (_pending < 0 && !tryAccept()) error();  // readable a moment ago, gone now: throws
    const int fd = std::exchange(_pending, -1);
    // POCO's SocketAddress has no move: the peer is built once, in the socket, and copied out once.
    auto* accepted = new AcceptedSocketImpl(fd, reinterpret_cast<const sockaddr*>(&_pendingPeer), _pendingPeerSize);
    clientAddr = accepted->peer();
    return accepted;
  }

  bool poll(const Poco::Timespan& timeout, int mode) override {
    if (sockfd() == POCO_INVALID_SOCKET) throw Poco::Net::InvalidSocketException();
    if (_pending >= 0) return true;
    if (mode == SELECT_READ && _lastAcceptFound && tryAccept()) return true;
    pollfd entry{};
    entry.fd = sockfd();
    if (mode & SELECT_READ) entry.events |= POLLIN;
    if (mode & SELECT_WRITE) entry.events |= POLLOUT;
    const int rc = ::poll(&entry, 1, static_cast<int>(timeout.totalMilliseconds()));
    // An interrupted wait reports "nothing yet": TCPServer simply polls again.
    if (rc < 0 && errno != EINTR) error();
    return rc > 0;
  }

  void close() override {
    if (_pending >= 0) ::close(std::exchange(_pending, -1));
    ServerSocketImpl::close();
  }

 protected:
  ~ListeningSocketImpl() override {
    if (_pending >= 0) ::close(_pending);
  }

 private:
  /// One accept(2) that does not wait; true with a connection in _pending.
  bool tryAccept() {
    for (;;) {
      _pendingPeerSize = sizeof _pendingPeer;
      _pending = ::accept(sockfd(), reinterpret_cast<sockaddr*>(&_pendingPeer), &_pendingPeerSize);
      _lastAcceptFound = _pending >= 0;
      if (_pending >= 0 || errno != EINTR) return _lastAcceptFound;
    }
  }

  int _pending = -1;  ///< accepted by poll(), handed out by the next acceptConnection()
  sockaddr_storage _pendingPeer{};
  socklen_t _pendingPeerSize = 0;
  bool _lastAcceptFound = false;
};

/// POCO's mapping from errno to its exceptions, which SocketImpl keeps protected.
class SocketErrors : public Poco::Net::SocketImpl {
 public:
  [[noreturn]] static void raise(int code) {
    error(code);
    throw Poco::IOException("socket error", code);  // error() always throws
  }
};

class ListeningServerSocket : public Poco::Net::ServerSocket {
 public:
  ListeningServerSocket() : ServerSocket(new ListeningSocketImpl, true) {}
};

void bindAndListen(Poco::Net::ServerSocket& socket, const std::string& host, std::uint16_t port, int backlog,
                   const InheritedOptions& inherited) {
  const Poco::Net::SocketAddress address = bindAddress(host, port);
  // SO_REUSEADDR (a restart binds past TIME_WAIT), not SO_REUSEPORT, which
  // POCO's bind(address, true) also sets: a second server on a port in use
  // must fail to start, not quietly share the port's connections.
  if (address.family() == Poco::Net::SocketAddress::IPv6) {
    socket.bind6(address, true, false, false);  // not IPv6-only: "::" takes IPv4 clients too
  } else {
    socket.bind(address, true, false);
  }
  if (inherited.sendTimeout.totalMicroseconds() > 0) socket.setSendTimeout(inherited.sendTimeout);
  if (inherited.noDelay) socket.setNoDelay(true);
  const int fd = socket.impl()->sockfd();
  const auto set = [fd](int level, int option, int value, const char* name) {
    if (::setsockopt(fd, level, option, &value, sizeof value) != 0) {
      throw Poco::IOException(std::string("cannot set ") + name, errno);
    }
  };
  if (inherited.keepalive) {
    set(SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
    set(IPPROTO_TCP, TCP_KEEPIDLE, inherited.keepalive->idle, "TCP_KEEPIDLE");
    set(IPPROTO_TCP, TCP_KEEPINTVL, inherited.keepalive->interval, "TCP_KEEPINTVL");
    set(IPPROTO_TCP, TCP_KEEPCNT, inherited.keepalive->count, "TCP_KEEPCNT");
  }
  if (inherited.userTimeoutMs > 0) set(IPPROTO_TCP, TCP_USER_TIMEOUT, inherited.userTimeoutMs, "TCP_USER_TIMEOUT");
  socket.listen(backlog);
}

/// The plain listener's accept(2) must not wait (ListeningSocketImpl): the
/// accepted sockets do not inherit O_NONBLOCK (Linux), they block as before.
void makeNonBlocking(const Poco::Net::ServerSocket& socket) {
  const int fd = socket.impl()->sockfd();
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    throw Poco::IOException("cannot make the listening socket non-blocking");
  }
}

/// The peer kept from accept(2) when listeningSocket() accepted `socket`; null otherwise.
const Poco::Net::SocketAddress* acceptedPeer(const Poco::Net::StreamSocket& socket) {
  const auto* accepted = dynamic_cast<const AcceptedSocketImpl*>(socket.impl());
  return accepted != nullptr ? &accepted->peer() : nullptr;
}

}  // namespace

void throwSocketError(int code) { SocketErrors::raise(code); }

std::optional<Poco::Net::SocketAddress> knownPeerOf(const Poco::Net::StreamSocket& socket) {
  if (const Poco::Net::SocketAddress* peer = acceptedPeer(socket)) return *peer;
  return std::nullopt;
}

std::optional<std::string> knownIpv4PeerText(const Poco::Net::StreamSocket& socket) {
  const Poco::Net::SocketAddress* peer = acceptedPeer(socket);
  if (peer == nullptr || peer->family() != Poco::Net::SocketAddress::IPv4) return std::nullopt;
  const auto* in = reinterpret_cast<const sockaddr_in*>(peer->addr());
  const auto* octets = reinterpret_cast<const unsigned char*>(&in->sin_addr.s_addr);  // network order
  std::string text;  // "127.0.0.1:54321" fits in the string itself; a longer one grows it once
  const auto decimal = [&text](unsigned value) {
    char digits[8];
    const auto written = std::to_chars(digits, digits + sizeof digits, value);
    text.append(digits, written.ptr);
  };
  for (int i = 0; i < 4; ++i) {
    if (i > 0) text.push_back('.');
    decimal(octets[i]);
  }
  text.push_back(':');
  decimal(ntohs(in->sin_port));
  return text;
}

Poco::Net::SocketAddress peerOf(const Poco::Net::StreamSocket& socket) {
  const Poco::Net::SocketImpl* impl = socket.impl();
  if (impl == nullptr) throw Poco::Net::InvalidSocketException();
  if (const auto* accepted = dynamic_cast<const AcceptedSocketImpl*>(impl)) return accepted->peer();
  return socket.peerAddress();
}

Poco::Net::SocketAddress bindAddress(const std::string& host, std::uint16_t port) {
  in6_addr six{};
  if (::inet_pton(AF_INET6, host.c_str(), &six) == 1) {
    return {Poco::Net::IPAddress(&six, sizeof six), port};
  }
  return {host, port};
}

Poco::Net::ServerSocket listeningSocket(const std::string& host, std::uint16_t port, int backlog,
                                        const InheritedOptions& inherited) {
  ListeningServerSocket socket;
  bindAndListen(socket, host, port, backlog, inherited);
  makeNonBlocking(socket);
  return socket;
}

Poco::Net::ServerSocket secureListeningSocket(const std::string& host, std::uint16_t port, int backlog,
                                              const InheritedOptions& inherited,
                                              const Poco::Net::Context::Ptr& context) {
  Poco::Net::SecureServerSocket socket(context);
  bindAndListen(socket, host, port, backlog, inherited);
  return socket;
}

}  // namespace echod
