#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <cstdint>
#include <optional>
#include <string>

namespace echod {

// The listening sockets of the echo, TLS and admin ports: bound, listening,
// their accept loop one poll(2) and one accept(2) per connection, and each
// accepted plain socket keeping its peer's address from accept(2).

/// TCP keepalive (echo.tcpKeepalive): SO_KEEPALIVE, then TCP_KEEPIDLE,
/// TCP_KEEPINTVL and TCP_KEEPCNT, in seconds, seconds and probes.
struct TcpKeepalive {
  int idle = 0;
  int interval = 0;
  int count = 0;
};

/// Options every accepted connection inherits from the listening socket
/// (Linux copies them at accept), so no connection pays a system call for them.
struct InheritedOptions {
  Poco::Timespan sendTimeout;             ///< SO_SNDTIMEO; zero: none
  bool noDelay = false;                   ///< TCP_NODELAY (Linux passes it on to accepted sockets)
  std::optional<TcpKeepalive> keepalive;  ///< none: the kernel's default (off)
  int userTimeoutMs = 0;                  ///< TCP_USER_TIMEOUT; 0: the kernel's
};

/// The address to bind for a host as echo.host takes it (an IPv4 or IPv6
/// address) and a port. POCO 1.11 reads the IPv6 wildcard "::" as no address
/// and looks it up with getaddrinfo, which fails where no IPv6 address is
/// configured (a container on Docker's default network: "DNS error"). An IPv6
/// address is read with inet_pton instead; anything else is POCO's to read.
Poco::Net::SocketAddress bindAddress(const std::string& host, std::uint16_t port);

/// A socket bound to host:port and listening, for the echo and the admin
/// endpoints alike. An IPv6 host ("::") also takes IPv4 clients.
/// Its poll() is one poll(2) call: POCO 1.11's creates, fills and closes an
/// epoll instance on every call, which TCPServer makes once per connection.
Poco::Net::ServerSocket listeningSocket(const std::string& host, std::uint16_t port, int backlog,
                                        const InheritedOptions& inherited = {});

/// The same for the TLS listener: accepted sockets are POCO TLS sockets whose
/// handshake has not started; it runs where they are first used (a worker).
Poco::Net::ServerSocket secureListeningSocket(const std::string& host, std::uint16_t port, int backlog,
                                              const InheritedOptions& inherited,
                                              const Poco::Net::Context::Ptr& context);

/// The peer's address: kept from accept(2) for sockets accepted by
/// listeningSocket() (no system call), asked of the kernel otherwise
/// (getpeername; throws once the peer is gone).
Poco::Net::SocketAddress peerOf(const Poco::Net::StreamSocket& socket);

/// The peer's "host:port", exactly as POCO's SocketAddress::toString()
/// writes it, when the socket was accepted by listeningSocket() from an IPv4
/// client: formatted from the address kept from accept(2), with no copy of
/// it and no allocation beyond the string's own. Nothing otherwise (IPv6,
/// TLS sockets): the caller asks peerOf().
std::optional<std::string> knownIpv4PeerText(const Poco::Net::StreamSocket& socket);

/// Throws what POCO throws for a socket call that failed with `code`
/// (errno): ConnectionResetException for ECONNRESET, and so on. For the
/// system calls made on a descriptor directly (the plain echo path).
[[noreturn]] void throwSocketError(int code);

/// The peer's address when it was kept from accept(2); nothing otherwise
/// (TLS sockets): never a system call.
std::optional<Poco::Net::SocketAddress> knownPeerOf(const Poco::Net::StreamSocket& socket);

}  // namespace echod
