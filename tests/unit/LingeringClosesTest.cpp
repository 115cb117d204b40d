// LingeringCloses over real loopback TCP: a socket handed over after our FIN
// is closed when the client closes, at its deadline, or past its byte budget;
// what arrives meanwhile is discarded without a reset; the list is bounded.
#include "service/connection/LingeringCloses.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace echod {
namespace {

constexpr std::int64_t kFarMs = 1LL << 50;

/// A connected loopback pair; the server side has sent "bye\n" and its FIN.
struct Pair {
  Pair() {
    Poco::Net::ServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0));
    client.connect(listener.address());
    server = listener.acceptConnection();
    server.sendBytes("bye\n", 4);
    server.shutdownSend();
  }
  /// What the client reads until the server's side is gone: its bytes, and whether it ended in a reset.
  std::string readToEnd(bool& reset) {
    std::string got;
    char buffer[256];
    client.setReceiveTimeout(Poco::Timespan(5, 0));
    reset = false;
    try {
      for (int n; (n = client.receiveBytes(buffer, sizeof buffer)) > 0;)
        got.append(buffer, static_cast<std::size_t>(n));
    } catch (const Poco::Net::ConnectionResetException&) {
      reset = true;
    }
    return got;
  }
  Poco::Net::StreamSocket client;
  Poco::Net::StreamSocket server;
};

/// Sweeps until nothing lingers, at most 5 s; false if something still does.
bool sweepUntilEmpty(LingeringCloses& lingering, std::int64_t nowMs) {
  for (int i = 0; i < 500 && lingering.size() > 0; ++i) {
    lingering.sweep(nowMs);
    if (lingering.size() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return lingering.size() == 0;
}

TEST(LingeringCloses, ClosesOnceTheClientClosedAndNotBefore) {
  LingeringCloses lingering(8);
  Pair pair;
  ASSERT_TRUE(lingering.adopt(pair.server.impl()->sockfd(), kFarMs, 1 << 20));
  pair.server.close();  // ours: the adopted duplicate keeps the connection
  EXPECT_EQ(lingering.sweep(0), 0u);
  // Late bytes are read and dropped; the socket stays.
  pair.client.sendBytes("late\n", 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(lingering.sweep(0), 0u);
  EXPECT_EQ(lingering.size(), 1u);
  bool reset = true;
  char buffer[16];
  EXPECT_EQ(pair.client.receiveBytes(buffer, sizeof buffer), 4);
  EXPECT_EQ(std::string(buffer, 4), "bye\n");
  EXPECT_EQ(pair.client.receiveBytes(buffer, sizeof buffer), 0);  // our FIN
  pair.client.shutdownSend();
  EXPECT_TRUE(sweepUntilEmpty(lingering, 0));
  EXPECT_EQ(pair.readToEnd(reset), "");
  EXPECT_FALSE(reset);
}

TEST(LingeringCloses, ClosesAtTheDeadlineWithoutAReset) {
  LingeringCloses lingering(8);
  Pair pair;
  ASSERT_TRUE(lingering.adopt(pair.server.impl()->sockfd(), 1000, 1 << 20));
  pair.server.close();
  EXPECT_EQ(lingering.sweep(999), 0u);
  EXPECT_EQ(lingering.sweep(1000), 1u);
  EXPECT_EQ(lingering.size(), 0u);
  bool reset = true;
  EXPECT_EQ(pair.readToEnd(reset), "bye\n");
  EXPECT_FALSE(reset);
  // Closed for good: what the client sends now is refused.
  EXPECT_THROW(
      {
        for (int i = 0; i < 100; ++i) {
          pair.client.sendBytes("x\n", 2, MSG_NOSIGNAL);
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      },
      Poco::Exception);
}

TEST(LingeringCloses, ClosesPastItsByteBudget) {
  LingeringCloses lingering(8);
  Pair pair;
  ASSERT_TRUE(lingering.adopt(pair.server.impl()->sockfd(), kFarMs, 1000));
  pair.server.close();
  const std::string blob(4000, 'z');
  pair.client.sendBytes(blob.data(), static_cast<int>(blob.size()));
  EXPECT_TRUE(sweepUntilEmpty(lingering, 0));
}

TEST(LingeringCloses, IsBoundedAndSaysNoWhenFull) {
  LingeringCloses lingering(2);
  Pair a, b, c;
  EXPECT_TRUE(lingering.adopt(a.server.impl()->sockfd(), kFarMs, 1 << 20));
  EXPECT_TRUE(lingering.adopt(b.server.impl()->sockfd(), kFarMs, 1 << 20));
  EXPECT_FALSE(lingering.adopt(c.server.impl()->sockfd(), kFarMs, 1 << 20));
  EXPECT_EQ(lingering.size(), 2u);
  lingering.sweep(0);
  EXPECT_EQ(lingering.size(), 2u);
  lingering.closeAll();
  EXPECT_EQ(lingering.size(), 0u);
  EXPECT_TRUE(lingering.adopt(c.server.impl()->sockfd(), kFarMs, 1 << 20));
  EXPECT_FALSE(lingering.waitUntilEmpty(0));
}

TEST(LingeringCloses, WaitUntilEmptyReturnsWhenTheLastOneIsClosed) {
  LingeringCloses lingering(8);
  Pair pair;
  ASSERT_TRUE(lingering.adopt(pair.server.impl()->sockfd(), 0, 1 << 20));
  std::thread housekeeper([&] { sweepUntilEmpty(lingering, 1); });
  EXPECT_TRUE(lingering.waitUntilEmpty(5000));
  housekeeper.join();
}

}  // namespace
}  // namespace echod
