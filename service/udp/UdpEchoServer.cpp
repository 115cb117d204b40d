#include "service/udp/UdpEchoServer.h"

#include <Poco/Exception.h>
#include <Poco/Net/IPAddress.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "service/connection/CoarseClock.h"

namespace echod {
namespace {

constexpr std::size_t kBuffer = 64 * 1024;  ///< the largest datagram fits: nothing is ever truncated
constexpr int kReceiveBuffer = 4 << 20;     ///< SO_RCVBUF asked for (the kernel caps it at rmem_max)

/// The source's address as IPv4-mapped IPv6 (the rate guard's key) and its port.
void sourceOf(const sockaddr_storage& from, UdpRateGuard::Address& address, std::uint16_t& port) {
  address.fill(0);
  if (from.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(from);
    address[10] = address[11] = 0xFF;
    std::memcpy(address.data() + 12, &v4.sin_addr, 4);
    port = ntohs(v4.sin_port);
  } else {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(from);
    std::memcpy(address.data(), &v6.sin6_addr, 16);
    port = ntohs(v6.sin6_port);
  }
}

}  // namespace

UdpEchoServer::UdpEchoServer(const Poco::Net::SocketAddress& address, Options options, ServerMetrics& metrics)
    : _options(std::move(options)), _metrics(metrics), _guard(_options.ratePerAddress) {
  _wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (_wake < 0) throw Poco::IOException("eventfd", std::strerror(errno));
  Poco::Net::SocketAddress bindTo = address;
  for (int i = 0; i < _options.threads; ++i) {
    // SO_REUSEPORT: one socket per thread on the one port; the kernel spreads
    // the sources over them (a source always reaches the same one).
    Poco::Net::DatagramSocket socket(bindTo.family());
    socket.bind(bindTo, true, true);
    try {
      socket.setReceiveBufferSize(kReceiveBuffer);
    } catch (const Poco::Exception&) {
      // The kernel's own size then: bursts beyond it are lost, and counted by the kernel, not here.
    }
    if (i == 0) bindTo = _address = socket.address();  // port 0: the others take the same
    _sockets.push_back(socket);
  }
}

UdpEchoServer::~UdpEchoServer() {
  stop();
  if (_wake >= 0) ::close(_wake);
}

void UdpEchoServer::start() {
  for (auto& socket : _sockets) _threads.emplace_back([this, &socket] { receive(socket); });
}

void UdpEchoServer::stop() {
  if (_stopping.exchange(true)) return;
  const std::uint64_t one = 1;
  if (::write(_wake, &one, sizeof one) < 0) {
    // Only a full counter fails, and then it is readable already.
  }
  for (auto& thread : _threads) thread.join();
  for (auto& socket : _sockets) socket.close();
}

void UdpEchoServer::receive(Poco::Net::DatagramSocket& socket) {
  const int fd = socket.impl()->sockfd();
  std::vector<char> buffers(kBatch * kBuffer);
  std::array<mmsghdr, kBatch> in{};
  std::array<iovec, kBatch> inIov{};
  std::array<sockaddr_storage, kBatch> from{};
  std::array<mmsghdr, kBatch> out{};
  std::array<std::array<iovec, 2>, kBatch> outIov{};
  std::array<std::string, kBatch> whoReplies;
  std::array<bool, kBatch> isWho{};
  pollfd fds[2] = {{fd, POLLIN, 0}, {_wake, POLLIN, 0}};
  const std::string local = _address.toString();
  while (!_stopping.load(std::memory_order_acquire)) {
    for (int i = 0; i < kBatch; ++i) {
      inIov[i] = {buffers.data() + static_cast<std::size_t>(i) * kBuffer, kBuffer};
      in[i].msg_hdr = {};
      in[i].msg_hdr.msg_name = &from[i];
      in[i].msg_hdr.msg_namelen = sizeof from[i];
      in[i].msg_hdr.msg_iov = &inIov[i];
      in[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd, in.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      // Nothing waiting: sleep until a datagram or stop(). An unexpected error
      // waits 10 ms on the wake-up alone, so it cannot spin.
      const bool quiet = n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      if (quiet) {
        ::poll(fds, 2, -1);
      } else {
        ::poll(&fds[1], 1, 10);
      }
      continue;
    }
    std::uint64_t echoed = 0;
    std::uint64_t whoed = 0;
    std::array<std::uint64_t, ServerMetrics::kUdpDrops> dropped{};
    const auto drop = [&dropped](ServerMetrics::UdpDrop reason) { ++dropped[static_cast<std::size_t>(reason)]; };
    unsigned replies = 0;
    const std::int64_t now = CoarseClock::nowMs();
    {
      std::unique_lock<std::mutex> guarded(_guardMutex, std::defer_lock);
      if (_options.ratePerAddress > 0) guarded.lock();
      for (int i = 0; i < n; ++i) {
        UdpRateGuard::Address address;
        std::uint16_t port = 0;
        sourceOf(from[i], address, port);
        if (port < kUdpLowestSourcePort) {
          drop(ServerMetrics::UdpDrop::LowPort);
          continue;
        }
        const std::string_view datagram(static_cast<const char*>(inIov[i].iov_base), in[i].msg_len);
        const UdpAnswer answer = answerDatagram(datagram, _options.prefix, _options.whoCommand);
        if (answer == UdpAnswer::TooLarge) {
          drop(ServerMetrics::UdpDrop::TooLarge);
          continue;
        }
        if (!_guard.allow(address, now)) {
          drop(ServerMetrics::UdpDrop::Rate);
          continue;
        }
        mmsghdr& reply = out[replies];
        reply.msg_hdr = {};
        reply.msg_hdr.msg_name = &from[i];
        reply.msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
        reply.msg_hdr.msg_iov = outIov[replies].data();
        if (answer == UdpAnswer::Who) {
          ConnectionFacts facts;
          facts.listener = "udp";
          facts.local = local;
          facts.peer = Poco::Net::SocketAddress(reinterpret_cast<const sockaddr*>(&from[i]),
                                                static_cast<poco_socklen_t>(in[i].msg_hdr.msg_namelen))
                           .toString();
          facts.client = facts.peer;
          whoReplies[replies] = whoJson(_options.identity, facts);
          outIov[replies][0] = {whoReplies[replies].data(), whoReplies[replies].size()};
          reply.msg_hdr.msg_iovlen = 1;
        } else {
          // The prefix and the datagram where it landed: two pieces, one datagram, no copy.
          outIov[replies][0] = {const_cast<char*>(_options.prefix.data()), _options.prefix.size()};
          outIov[replies][1] = {const_cast<char*>(datagram.data()), datagram.size()};
          reply.msg_hdr.msg_iovlen = 2;
        }
        isWho[replies] = answer == UdpAnswer::Who;
        ++replies;
      }
    }
    // Counted as answered once the kernel took them.
    const auto answered = [&](unsigned from, unsigned to) {
      for (unsigned i = from; i < to; ++i) ++(isWho[i] ? whoed : echoed);
    };
    for (unsigned sent = 0; sent < replies;) {
      const int r = ::sendmmsg(fd, out.data() + sent, replies - sent, 0);
      if (r > 0) {
        answered(sent, sent + static_cast<unsigned>(r));
        sent += static_cast<unsigned>(r);
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else {
        drop(ServerMetrics::UdpDrop::SendFailed);  // this one: the kernel refused it (a bad address, no route)
        ++sent;
      }
    }
    if (echoed > 0) _metrics.count(_metrics.udpEchoed, echoed);
    if (whoed > 0) _metrics.count(_metrics.udpWho, whoed);
    for (std::size_t r = 0; r < dropped.size(); ++r) {
      if (dropped[r] > 0) _metrics.count(_metrics.udpDropped[r], dropped[r]);
    }
  }
}

}  // namespace echod
