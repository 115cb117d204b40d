#pragma once

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "protocol/UdpEcho.h"
#include "service/core/Counter.h"
#include "service/core/WhoAnswer.h"

namespace echod {

/// UDP echo's counters, for /metrics: datagrams answered (echo or who), and
/// dropped by reason.
struct UdpCounters {
  Counter udpEchoed{0};
  Counter udpWho{0};
  enum class UdpDrop : std::uint8_t { LowPort, Rate, TooLarge, SendFailed };
  static constexpr std::size_t kUdpDrops = static_cast<std::size_t>(UdpDrop::SendFailed) + 1;
  static constexpr std::array<const char*, kUdpDrops> kUdpDropNames{"low_port", "rate", "too_large", "send_failed"};
  std::array<Counter, kUdpDrops> udpDropped{};
};

/// UDP echo (docs/protocol.md, "UDP"): `threads` receiving threads, each on
/// its own SO_REUSEPORT socket bound to the same address, each taking up to
/// kBatch datagrams per recvmmsg(2) and answering them with one sendmmsg(2)
/// (the prefix and the datagram as two pieces of one message: nothing is
/// copied). Bound to a wildcard address, each datagram comes with the address
/// it reached (IP_PKTINFO, IPV6_PKTINFO): who's `local`, and the reply's
/// source. The answer and the rate guard are protocol/UdpEcho. Bounded
/// memory: kBatch buffers of 64 KiB per thread, and the guard's table.
/// Threads start in start() and are joined in stop() (woken at once through
/// an eventfd), which the destructor calls too.
class UdpEchoServer {
 public:
  struct Options {
    std::string prefix;
    std::string whoCommand;  ///< empty: off
    ServerIdentity identity;
    std::uint32_t ratePerAddress = 1000;  ///< 0: no limit
    int threads = 1;
  };
  static constexpr int kBatch = 32;

  /// Binds `threads` sockets to `address` (port 0: a free one, shared by all);
  /// throws Poco::Exception when it cannot.
  UdpEchoServer(const Poco::Net::SocketAddress& address, Options options, UdpCounters& counters);
  ~UdpEchoServer();
  UdpEchoServer(const UdpEchoServer&) = delete;
  UdpEchoServer& operator=(const UdpEchoServer&) = delete;

  void start();
  /// Stops and joins every thread; idempotent.
  void stop();
  Poco::Net::SocketAddress address() const { return _address; }

 private:
  struct Arrival;
  void receive(Poco::Net::DatagramSocket& socket);

  const Options _options;
  UdpCounters& _counters;
  const bool _packetInfo;  ///< bound to a wildcard address: each datagram says where it arrived
  std::vector<Poco::Net::DatagramSocket> _sockets;
  Poco::Net::SocketAddress _address;
  int _wake = -1;  ///< eventfd: stop() makes it readable, every thread's poll(2) returns
  std::atomic<bool> _stopping{false};
  std::mutex _guardMutex;  ///< one lock per batch, not per datagram
  UdpRateGuard _guard;
  std::vector<std::thread> _threads;
};

}  // namespace echod
