#pragma once

#include <string>

#include "service/server/EchoServer.h"

namespace echod {

/// GET /metrics: the counters, gauges and process figures of `echo` now, in
/// Prometheus text format (docs/configuration.md lists the series).
std::string metricsText(const EchoServer& echo);

}  // namespace echod
