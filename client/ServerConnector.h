#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace echod {

/// Opens a TCP connection to the echo server within `timeout`; throws
/// Poco::Exception with the reason (refused, timed out, unknown host).
Poco::Net::StreamSocket connectToServer(const std::string& host, std::uint16_t port, const Poco::Timespan& timeout);

/// Writes all of `bytes`; no SIGPIPE. Throws Poco::Exception when the peer is gone.
void sendAll(Poco::Net::StreamSocket& socket, std::string_view bytes);

}  // namespace echod
