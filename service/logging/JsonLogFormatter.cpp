#include "service/logging/JsonLogFormatter.h"

#include <Poco/DateTimeFormatter.h>
#include <Poco/JSONString.h>

namespace echod {
namespace {

const char* levelName(Poco::Message::Priority priority) {
  switch (priority) {
    case Poco::Message::PRIO_FATAL:
      return "fatal";
    case Poco::Message::PRIO_CRITICAL:
      return "critical";
    case Poco::Message::PRIO_ERROR:
      return "error";
    case Poco::Message::PRIO_WARNING:
      return "warning";
    case Poco::Message::PRIO_NOTICE:
      return "notice";
    case Poco::Message::PRIO_INFORMATION:
      return "information";
    case Poco::Message::PRIO_DEBUG:
      return "debug";
    case Poco::Message::PRIO_TRACE:
      return "trace";
  }
  return "unknown";
}

}  // namespace

void JsonLogFormatter::format(const Poco::Message& message, std::string& text) {
  text = "{\"time\":\"";
  text += Poco::DateTimeFormatter::format(message.getTime(), "%Y-%m-%dT%H:%M:%S.%iZ");
  text += "\",\"level\":\"";
  text += levelName(message.getPriority());
  text += "\",\"logger\":";
  text += Poco::toJSON(message.getSource());
  text += ",\"message\":";
  text += Poco::toJSON(message.getText());
  text += '}';
}

}  // namespace echod
