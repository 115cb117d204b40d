#pragma once

#include "service/connection/ConnectionMetrics.h"
#include "service/udp/UdpEchoServer.h"

namespace echod {

/// Every counter of the server, for /metrics and the console: the sum of
/// each room's own (the connection path's, with its opening steps and
/// faults; UDP's). Each room is handed its part, never the whole.
struct ServerMetrics : ConnectionMetrics, UdpCounters {};

}  // namespace echod
