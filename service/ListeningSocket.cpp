#include "service/ListeningSocket.h"

#include <Poco/Net/SocketAddress.h>

namespace echod {

Poco::Net::ServerSocket listeningSocket(const std::string& host, std::uint16_t port, int backlog) {
  const Poco::Net::SocketAddress address(host, port);
  Poco::Net::ServerSocket socket;
  if (address.family() == Poco::Net::SocketAddress::IPv6) {
    socket.bind6(address, true, false);  // not IPv6-only: "::" takes IPv4 clients too
  } else {
    socket.bind(address, true);
  }
  socket.listen(backlog);
  return socket;
}

}  // namespace echod
