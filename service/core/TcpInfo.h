#pragma once

#include <cstdint>
#include <optional>

#include "service/core/ListeningSocket.h"

namespace echod {

/// What the kernel knows of one TCP connection at this moment (TCP_INFO),
/// for the who command's "tcp" (docs/protocol.md "Rollouts and connection
/// lifetime"): two system calls per who, never per message.
struct TcpFacts {
  std::uint32_t rttUs = 0;                ///< smoothed round-trip time
  std::uint32_t rttvarUs = 0;             ///< its variation
  std::uint32_t retransmits = 0;          ///< segments retransmitted in all (tcpi_total_retrans)
  std::uint32_t mss = 0;                  ///< sending MSS
  std::uint32_t pmtu = 0;                 ///< path MTU
  std::uint32_t cwnd = 0;                 ///< congestion window, in segments
  std::optional<TcpKeepalive> keepalive;  ///< as set on this socket; none when SO_KEEPALIVE is off
  std::uint32_t userTimeoutMs = 0;        ///< TCP_USER_TIMEOUT as set on this socket; 0: the kernel's
};

/// The facts of the TCP socket `fd`; none when the kernel does not say (not TCP, or gone).
std::optional<TcpFacts> tcpFacts(int fd);

}  // namespace echod
