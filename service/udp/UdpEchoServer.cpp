#include "service/udp/UdpEchoServer.h"

#include <Poco/Exception.h>
#include <Poco/Net/IPAddress.h>

#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "service/core/CoarseClock.h"

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

/// Room for the one control message asked for: IP_PKTINFO or IPV6_PKTINFO.
constexpr std::size_t kControl = CMSG_SPACE(sizeof(in6_pktinfo));
static_assert(CMSG_SPACE(sizeof(in_pktinfo)) <= kControl);

}  // namespace

/// Where a datagram arrived (a socket bound to a wildcard address only): the
/// address the client reached, for who's `local` and as the reply's source,
/// so that a host with several addresses (a VIP, direct server return)
/// answers from the address it was asked on.
struct UdpEchoServer::Arrival {
  alignas(cmsghdr) std::array<unsigned char, kControl> control{};  ///< what recvmmsg(2) wrote
  alignas(cmsghdr) std::array<unsigned char, kControl> reply{};    ///< what the reply's sendmmsg(2) passes
  std::size_t replyLength = 0;                                     ///< 0: no packet info, the kernel picks the source

  /// Reads what recvmmsg(2) left in `control` through `header` and prepares
  /// `reply`; `local` gets the destination address with `port`. False when
  /// there was none.
  bool read(msghdr& header, std::uint16_t port, sockaddr_storage& local) {
    replyLength = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        auto& v4 = reinterpret_cast<sockaddr_in&>(local);
        v4 = {};
        v4.sin_family = AF_INET;
        v4.sin_addr = info.ipi_addr;
        v4.sin_port = htons(port);
        // ipi_spec_dst is the local address for this packet: the destination
        // itself, or for a broadcast the interface's own address.
        in_pktinfo out{};
        out.ipi_spec_dst = info.ipi_spec_dst;
        return put(IPPROTO_IP, IP_PKTINFO, &out, sizeof out);
      }
      if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        auto& v6 = reinterpret_cast<sockaddr_in6&>(local);
        v6 = {};
        v6.sin6_family = AF_INET6;
        v6.sin6_addr = info.ipi6_addr;
        v6.sin6_port = htons(port);
        if (IN6_IS_ADDR_MULTICAST(&info.ipi6_addr)) return true;  // not a source: the kernel picks one
        in6_pktinfo out{};
        out.ipi6_addr = info.ipi6_addr;
        // A link-local address means something only on its interface.
        if (IN6_IS_ADDR_LINKLOCAL(&info.ipi6_addr)) {
          out.ipi6_ifindex = info.ipi6_ifindex;
          v6.sin6_scope_id = static_cast<std::uint32_t>(info.ipi6_ifindex);
        }
        return put(IPPROTO_IPV6, IPV6_PKTINFO, &out, sizeof out);
      }
    }
    return false;
  }

 private:
  bool put(int level, int type, const void* data, std::size_t size) {
    msghdr header{};
    header.msg_control = reply.data();
    header.msg_controllen = reply.size();
    cmsghdr* c = CMSG_FIRSTHDR(&header);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(size);
    std::memcpy(CMSG_DATA(c), data, size);
    replyLength = CMSG_SPACE(size);
    return true;
  }
};

UdpEchoServer::UdpEchoServer(const Poco::Net::SocketAddress& address, Options options, UdpCounters& counters)
    : _options(std::move(options)),
      _counters(counters),
      _packetInfo(address.host().isWildcard()),
      _guard(_options.ratePerAddress) {
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
    if (_packetInfo) {
      // On an IPv6 socket this covers IPv4 too: Linux reports an IPv4
      // destination as IPv4-mapped, and takes it back as the reply's source.
      const int on = 1;
      const bool v4 = bindTo.family() == Poco::Net::SocketAddress::IPv4;
      if (::setsockopt(socket.impl()->sockfd(), v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_PKTINFO : IPV6_RECVPKTINFO, &on,
                       sizeof on) != 0) {
        throw Poco::IOException("UDP packet info", std::strerror(errno));
      }
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
  std::vector<Arrival> arrivals(_packetInfo ? kBatch : 0);  // on the heap: 2 x 40 B per datagram
  std::array<mmsghdr, kBatch> out{};
  std::array<std::array<iovec, 2>, kBatch> outIov{};
  std::array<std::string, kBatch> whoReplies;
  std::array<bool, kBatch> isWho{};
  pollfd fds[2] = {{fd, POLLIN, 0}, {_wake, POLLIN, 0}};
  const std::string bound = _address.toString();
  while (!_stopping.load(std::memory_order_acquire)) {
    for (int i = 0; i < kBatch; ++i) {
      inIov[i] = {buffers.data() + static_cast<std::size_t>(i) * kBuffer, kBuffer};
      in[i].msg_hdr = {};
      in[i].msg_hdr.msg_name = &from[i];
      in[i].msg_hdr.msg_namelen = sizeof from[i];
      in[i].msg_hdr.msg_iov = &inIov[i];
      in[i].msg_hdr.msg_iovlen = 1;
      if (_packetInfo) {
        in[i].msg_hdr.msg_control = arrivals[i].control.data();
        in[i].msg_hdr.msg_controllen = arrivals[i].control.size();
      }
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
    std::array<std::uint64_t, UdpCounters::kUdpDrops> dropped{};
    const auto drop = [&dropped](UdpCounters::UdpDrop reason) { ++dropped[static_cast<std::size_t>(reason)]; };
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
          drop(UdpCounters::UdpDrop::LowPort);
          continue;
        }
        const std::string_view datagram(static_cast<const char*>(inIov[i].iov_base), in[i].msg_len);
        const UdpAnswer answer = answerDatagram(datagram, _options.prefix, _options.whoCommand);
        if (answer == UdpAnswer::TooLarge) {
          drop(UdpCounters::UdpDrop::TooLarge);
          continue;
        }
        if (!_guard.allow(address, now)) {
          drop(UdpCounters::UdpDrop::Rate);
          continue;
        }
        mmsghdr& reply = out[replies];
        reply.msg_hdr = {};
        reply.msg_hdr.msg_name = &from[i];
        reply.msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
        reply.msg_hdr.msg_iov = outIov[replies].data();
        sockaddr_storage reached{};
        const bool arrived = _packetInfo && arrivals[i].read(in[i].msg_hdr, _address.port(), reached);
        if (arrived && arrivals[i].replyLength > 0) {
          reply.msg_hdr.msg_control = arrivals[i].reply.data();
          reply.msg_hdr.msg_controllen = arrivals[i].replyLength;
        }
        if (answer == UdpAnswer::Who) {
          ConnectionFacts facts;
          facts.listener = "udp";
          facts.local = arrived ? Poco::Net::SocketAddress(
                                      reinterpret_cast<const sockaddr*>(&reached),
                                      reached.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6))
                                      .toString()
                                : bound;
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
      } else if (out[sent].msg_hdr.msg_controllen > 0) {
        // Refused from the address it reached (one the host cannot send
        // from): once more from the one the kernel picks.
        out[sent].msg_hdr.msg_control = nullptr;
        out[sent].msg_hdr.msg_controllen = 0;
      } else {
        drop(UdpCounters::UdpDrop::SendFailed);  // this one: the kernel refused it (a bad address, no route)
        ++sent;
      }
    }
    if (echoed > 0) count(_counters.udpEchoed, echoed);
    if (whoed > 0) count(_counters.udpWho, whoed);
    for (std::size_t r = 0; r < dropped.size(); ++r) {
      if (dropped[r] > 0) count(_counters.udpDropped[r], dropped[r]);
    }
  }
}

}  // namespace echod
