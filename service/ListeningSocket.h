#pragma once

#include <Poco/Net/ServerSocket.h>

#include <cstdint>
#include <string>

namespace echod {

/// A socket bound to host:port and listening, for the echo and the admin
/// endpoints alike. An IPv6 host ("::") also takes IPv4 clients.
Poco::Net::ServerSocket listeningSocket(const std::string& host, std::uint16_t port, int backlog);

}  // namespace echod
