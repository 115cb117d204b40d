#include "service/connection/ListeningSocket.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocketImpl.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocketImpl.h>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace echod {
namespace {

/// An accepted socket that keeps its peer's address from accept(2).
class AcceptedSocketImpl : public Poco::Net::StreamSocketImpl {
 public:
  AcceptedSocketImpl(poco_socket_t fd, const Poco::Net::SocketAddress& peer) : StreamSocketImpl(fd), _peer(peer) {}
  const Poco::Net::SocketAddress& peer() const { return _peer; }

 protected:
  ~AcceptedSocketImpl() override = default;

 private:
  const Poco::Net::SocketAddress _peer;
};

/// A listening socket whose readiness wait is a plain poll(2), and whose
/// accepted sockets remember their peer (POCO's drop it).
class ListeningSocketImpl : public Poco::Net::ServerSocketImpl {
 public:
  Poco::Net::SocketImpl* acceptConnection(Poco::Net::SocketAddress& clientAddr) override {
    if (sockfd() == POCO_INVALID_SOCKET) throw Poco::Net::InvalidSocketException();
    sockaddr_storage buffer{};
    auto* address = reinterpret_cast<sockaddr*>(&buffer);
    for (;;) {
      socklen_t size = sizeof buffer;
      const int fd = ::accept(sockfd(), address, &size);
      if (fd >= 0) {
        clientAddr = Poco::Net::SocketAddress(address, size);
        return new AcceptedSocketImpl(fd, clientAddr);
      }
      if (errno != EINTR) error();  // throws
    }
  }

  bool poll(const Poco::Timespan& timeout, int mode) override {
    if (sockfd() == POCO_INVALID_SOCKET) throw Poco::Net::InvalidSocketException();
    pollfd entry{};
    entry.fd = sockfd();
    if (mode & SELECT_READ) entry.events |= POLLIN;
    if (mode & SELECT_WRITE) entry.events |= POLLOUT;
    const int rc = ::poll(&entry, 1, static_cast<int>(timeout.totalMilliseconds()));
    // An interrupted wait reports "nothing yet": TCPServer simply polls again.
    if (rc < 0 && errno != EINTR) error();
    return rc > 0;
  }

 protected:
  ~ListeningSocketImpl() override = default;
};

class ListeningServerSocket : public Poco::Net::ServerSocket {
 public:
  ListeningServerSocket() : ServerSocket(new ListeningSocketImpl, true) {}
};

void bindAndListen(Poco::Net::ServerSocket& socket, const std::string& host, std::uint16_t port, int backlog,
                   const InheritedOptions& inherited) {
  const Poco::Net::SocketAddress address(host, port);
  if (address.family() == Poco::Net::SocketAddress::IPv6) {
    socket.bind6(address, true, false);  // not IPv6-only: "::" takes IPv4 clients too
  } else {
    socket.bind(address, true);
  }
  if (inherited.sendTimeout.totalMicroseconds() > 0) socket.setSendTimeout(inherited.sendTimeout);
  if (inherited.noDelay) socket.setNoDelay(true);
  socket.listen(backlog);
}

}  // namespace

std::optional<Poco::Net::SocketAddress> knownPeerOf(const Poco::Net::StreamSocket& socket) {
  const auto* accepted = dynamic_cast<const AcceptedSocketImpl*>(socket.impl());
  if (accepted == nullptr) return std::nullopt;
  return accepted->peer();
}

Poco::Net::SocketAddress peerOf(const Poco::Net::StreamSocket& socket) {
  const Poco::Net::SocketImpl* impl = socket.impl();
  if (impl == nullptr) throw Poco::Net::InvalidSocketException();
  if (const auto* accepted = dynamic_cast<const AcceptedSocketImpl*>(impl)) return accepted->peer();
  return socket.peerAddress();
}

Poco::Net::ServerSocket listeningSocket(const std::string& host, std::uint16_t port, int backlog,
                                        const InheritedOptions& inherited) {
  ListeningServerSocket socket;
  bindAndListen(socket, host, port, backlog, inherited);
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
