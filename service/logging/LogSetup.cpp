#include "service/logging/LogSetup.h"

#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>

#include "service/logging/JsonLogFormatter.h"

namespace echod {

Poco::AutoPtr<StderrChannel> setUpLogging(const std::string& level, bool json) {
  Poco::AutoPtr<Poco::Formatter> format;
  if (json) {
    format = new JsonLogFormatter;
  } else {
    format = new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t");
  }
  Poco::AutoPtr<StderrChannel> output(new StderrChannel(STDERR_FILENO, StderrChannel::kFlushEvery, format));
  Poco::Logger::setChannel("", output);  // every logger, existing or not
  Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
  return output;
}

}  // namespace echod
