#pragma once

#include <Poco/Timespan.h>

#include "protocol/EchoSession.h"
#include "protocol/FaultPlan.h"
#include "protocol/Rollout.h"
#include "service/connection/ConnectionEvents.h"
#include "service/connection/ConnectionMetrics.h"
#include "service/connection/ConnectionRegistry.h"
#include "service/connection/LingeringCloses.h"
#include "service/connection/WorkerScheduling.h"
#include "service/core/WhoAnswer.h"

namespace echod {

/// The few settings a connection is served by; EchoServer fills them from ServerSettings.
struct ConnectionOptions {
  SessionOptions session;      ///< framing, prefix, maxLineLength
  Poco::Timespan idleTimeout;  ///< also bounds a write to a client that stopped reading
  Poco::Timespan tlsHandshakeTimeout;
  Poco::Timespan proxyHeaderTimeout;  ///< the PROXY listener: a complete header within this
  WorkerScheduling workerScheduling = WorkerScheduling::Normal;
  bool console = false;  ///< record opened/closed events for the web console
  // Who answered (WhoAnswer.h): each connection is personalized once, only when one of these is on.
  ServerIdentity identity;
  std::string banner;               ///< sent first; empty: off
  bool prefixPlaceholders = false;  ///< the prefix holds a placeholder
  bool personalized() const { return prefixPlaceholders || !banner.empty() || !session.whoCommand.empty(); }
  FaultOptions faults;  ///< faults on demand; any() false: no connection is drawn
  AgeLimit maxAge;      ///< echo.maxConnectionAge; any() false: none (maxMessages is in session)
};

/// Everything a worker and its connections are handed, by EchoServer, which
/// owns all of it and outlives every worker.
struct ConnectionContext {
  ConnectionOptions options;
  ConnectionRegistry& registry;
  LingeringCloses& lingering;
  ConnectionEvents& events;
  ConnectionMetrics& metrics;
};

}  // namespace echod
