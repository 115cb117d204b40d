#include "client/ServerConnector.h"

#include <Poco/Net/SocketAddress.h>

#include <sys/socket.h>

namespace echod {

Poco::Net::StreamSocket connectToServer(const std::string& host, std::uint16_t port, Poco::Timespan timeout) {
  const Poco::Net::SocketAddress address(host, port);
  Poco::Net::StreamSocket socket(address.family());
  socket.connect(address, timeout);
  socket.setNoDelay(true);
  return socket;
}

void sendAll(Poco::Net::StreamSocket& socket, std::string_view bytes) {
  while (!bytes.empty()) {
    const int sent = socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()), MSG_NOSIGNAL);
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

}  // namespace echod
