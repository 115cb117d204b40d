#pragma once

#include <Poco/Net/SocketAddress.h>

#include <string>

#include "service/server/EchoServer.h"

namespace echod {

/// GET /console/state: the live view's JSON for a browser at `client`: the
/// worker pool, the oldest open connections and the last connection events.
/// Client addresses are masked (a.b.*.*) unless the browser is on loopback or
/// echo.consoleShowAddresses is on.
std::string consoleState(const EchoServer& echo, const Poco::Net::SocketAddress& client);

}  // namespace echod
