#include "service/core/TcpInfo.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace echod {
namespace {

bool intOption(int fd, int level, int option, int& value) {
  socklen_t size = sizeof value;
  return ::getsockopt(fd, level, option, &value, &size) == 0;
}

}  // namespace

std::optional<TcpFacts> tcpFacts(int fd) {
  if (fd < 0) return std::nullopt;
  tcp_info info{};
  socklen_t size = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0 || size < sizeof info) return std::nullopt;
  TcpFacts facts;
  facts.rttUs = info.tcpi_rtt;
  facts.rttvarUs = info.tcpi_rttvar;
  facts.retransmits = info.tcpi_total_retrans;
  facts.mss = info.tcpi_snd_mss;
  facts.pmtu = info.tcpi_pmtu;
  facts.cwnd = info.tcpi_snd_cwnd;
  int on = 0;
  TcpKeepalive keepalive;
  if (intOption(fd, SOL_SOCKET, SO_KEEPALIVE, on) && on != 0 &&
      intOption(fd, IPPROTO_TCP, TCP_KEEPIDLE, keepalive.idle) &&
      intOption(fd, IPPROTO_TCP, TCP_KEEPINTVL, keepalive.interval) &&
      intOption(fd, IPPROTO_TCP, TCP_KEEPCNT, keepalive.count)) {
    facts.keepalive = keepalive;
  }
  if (int ms = 0; intOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, ms) && ms > 0)
    facts.userTimeoutMs = static_cast<std::uint32_t>(ms);
  return facts;
}

}  // namespace echod
