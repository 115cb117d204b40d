// The peer's name in the connection log and the console: formatted from the
// address kept from accept(2) for IPv4 clients, exactly as POCO's
// SocketAddress::toString() writes it, and POCO's text for everything else.
// Integration, not unit: the dual-stack case binds "::", which POCO 1.11
// looks up with getaddrinfo (its parser takes the all-zero address for
// none), and that failed ("DNS error") in the image's build, where the unit
// tests run.
#include <gtest/gtest.h>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <string>

#include "service/connection/ConnectionLog.h"
#include "service/core/ListeningSocket.h"

namespace echod {
namespace {

/// A connection from `clientHost` to a listener on `listenHost`, as the acceptor takes it.
struct Accepted {
  Poco::Net::ServerSocket listener;
  Poco::Net::StreamSocket client;
  Poco::Net::StreamSocket server;
};

Accepted accept(const std::string& listenHost, const std::string& clientHost, const std::string& connectHost) {
  Accepted a{listeningSocket(listenHost, 0, 16), {}, {}};
  a.client = Poco::Net::StreamSocket(Poco::Net::SocketAddress::IPv4);
  a.client.impl()->bind(Poco::Net::SocketAddress(clientHost, 0), false);
  a.client.connect(Poco::Net::SocketAddress(connectHost, a.listener.address().port()));
  // Bounded: the connection is already in the accept queue once connect() returned on loopback.
  for (int i = 0; i < 50 && !a.listener.poll(Poco::Timespan(100000), Poco::Net::Socket::SELECT_READ); ++i) {
  }
  a.server = a.listener.acceptConnection();
  return a;
}

TEST(PeerName, AnIpv4ClientIsNamedFromAcceptWithPocosText) {
  // Octets of one, two and three digits, and the client's own port.
  const Accepted a = accept("127.0.0.1", "127.10.200.3", "127.0.0.1");
  const std::string expected = "127.10.200.3:" + std::to_string(a.client.address().port());
  const auto known = knownIpv4PeerText(a.server);
  ASSERT_TRUE(known.has_value());
  EXPECT_EQ(*known, expected);
  EXPECT_EQ(*known, peerOf(a.server).toString());
  EXPECT_EQ(peerName(a.server), expected);
}

TEST(PeerName, AnIpv4MappedClientOfADualStackListenerKeepsPocosText) {
  const Accepted a = accept("::", "127.0.0.1", "127.0.0.1");
  EXPECT_FALSE(knownIpv4PeerText(a.server).has_value());
  const std::string expected = "[::ffff:127.0.0.1]:" + std::to_string(a.client.address().port());
  EXPECT_EQ(peerName(a.server), expected);
}

TEST(PeerName, ASocketNotAcceptedHereAsksTheKernel) {
  const Accepted a = accept("127.0.0.1", "127.0.0.1", "127.0.0.1");
  // The client's side was not accepted by listeningSocket(): getpeername names the listener.
  EXPECT_FALSE(knownIpv4PeerText(a.client).has_value());
  EXPECT_EQ(peerName(a.client), "127.0.0.1:" + std::to_string(a.listener.address().port()));
}

}  // namespace
}  // namespace echod
