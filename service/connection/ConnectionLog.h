#pragma once

#include <Poco/Logger.h>
#include <Poco/Net/StreamSocket.h>

#include <string>

namespace echod {

// The connection path's log lines ("echod.connection"), cheap enough for
// every connection.

/// Looked up once: Logger::get takes a process-wide lock, once per connection was too often.
Poco::Logger& connectionLogger();

/// Logs one `information` line. POCO's Message constructor asks the kernel
/// for the process id each time (getpid is a system call in this glibc);
/// each thread reuses one message instead, with its text and time replaced,
/// copied from one made once.
void logInformation(Poco::Logger& log, const std::string& text);

/// The peer's "host:port" for a log line or the console, or "(gone)".
std::string peerName(const Poco::Net::StreamSocket& socket);

}  // namespace echod
