// The address a listener binds for echo.host. These run in the image's build
// too, on Docker's default network, where no IPv6 address is configured: there
// POCO's own reading of "::" (a getaddrinfo lookup) failed with "DNS error".
#include <gtest/gtest.h>

#include <Poco/Net/SocketAddress.h>

#include "service/core/ListeningSocket.h"

namespace echod {
namespace {

TEST(BindAddress, TheIpv6WildcardIsReadWithoutALookup) {
  const Poco::Net::SocketAddress address = bindAddress("::", 4567);
  EXPECT_EQ(address.family(), Poco::Net::SocketAddress::IPv6);
  EXPECT_TRUE(address.host().isWildcard());
  EXPECT_EQ(address.port(), 4567);
  EXPECT_EQ(address.toString(), "[::]:4567");
}

TEST(BindAddress, OtherIpv6AddressesKeepTheirBytes) {
  EXPECT_EQ(bindAddress("::1", 9090).toString(), "[::1]:9090");
  EXPECT_EQ(bindAddress("fd00:0:0:0:0:0:0:2a", 1).toString(), "[fd00::2a]:1");
}

TEST(BindAddress, Ipv4AddressesAreRead) {
  const Poco::Net::SocketAddress any = bindAddress("0.0.0.0", 4567);
  EXPECT_EQ(any.family(), Poco::Net::SocketAddress::IPv4);
  EXPECT_EQ(any.toString(), "0.0.0.0:4567");
  EXPECT_EQ(bindAddress("127.0.0.1", 0).toString(), "127.0.0.1:0");
}

}  // namespace
}  // namespace echod
