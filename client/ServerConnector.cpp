#include "client/ServerConnector.h"

#include <Poco/Net/DNS.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SocketAddress.h>

#include <sys/socket.h>

#include <random>

namespace echod {

namespace {

/// One of the host's addresses, picked at random: a service name with several
/// replicas behind it (Compose, Kubernetes) then spreads connections over all
/// of them. getaddrinfo's own ordering would send every connection to one.
Poco::Net::SocketAddress pickAddress(const std::string& host, std::uint16_t port) {
  Poco::Net::IPAddress literal;
  if (Poco::Net::IPAddress::tryParse(host, literal)) return Poco::Net::SocketAddress(literal, port);
  const auto addresses = Poco::Net::DNS::resolve(host).addresses();
  if (addresses.empty()) return Poco::Net::SocketAddress(host, port);
  thread_local std::minstd_rand random(std::random_device{}());
  return Poco::Net::SocketAddress(addresses[random() % addresses.size()], port);
}

}  // namespace

Poco::Net::StreamSocket connectToServer(const std::string& host, std::uint16_t port, const Poco::Timespan& timeout) {
  const Poco::Net::SocketAddress address = pickAddress(host, port);
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
