#include "service/connection/ConnectionLog.h"

#include <Poco/Exception.h>
#include <Poco/Message.h>
#include <Poco/Timestamp.h>

#include <utility>

#include "service/core/ListeningSocket.h"

namespace echod {

Poco::Logger& connectionLogger() {
  static Poco::Logger& log = Poco::Logger::get("echod.connection");
  return log;
}

void logInformation(Poco::Logger& log, const std::string& text) {
  // Copied, not constructed, per thread: a new worker thread for each
  // connection of a burst must not pay getpid(2) for its first line. Our
  // formatters show neither the process nor the thread.
  static const Poco::Message prototype(log.name(), std::string(), Poco::Message::PRIO_INFORMATION);
  thread_local Poco::Message message(prototype);
  message.setText(text);
  message.setTime(Poco::Timestamp());
  log.log(message);
}

std::string peerName(const Poco::Net::StreamSocket& socket) {
  // The usual case (an IPv4 client of the plain listener) costs no SocketAddress copy.
  if (auto text = knownIpv4PeerText(socket)) return std::move(*text);
  try {
    return peerOf(socket).toString();
  } catch (const Poco::Exception&) {
    return "(gone)";
  }
}

}  // namespace echod
