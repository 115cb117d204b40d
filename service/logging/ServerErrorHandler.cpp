#include "service/logging/ServerErrorHandler.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Thread.h>

#include <cerrno>

namespace echod {
namespace {
constexpr long kBackoffMs = 50;  ///< acceptor pause while descriptors are exhausted
}

void ServerErrorHandler::exception(const Poco::Exception& e) {
  report(e.displayText(), e.code() == EMFILE || e.code() == ENFILE);
}

void ServerErrorHandler::exception(const std::exception& e) { report(e.what(), false); }

void ServerErrorHandler::exception() { report("unknown exception", false); }

void ServerErrorHandler::report(const std::string& what, bool outOfDescriptors) {
  {
    std::lock_guard<std::mutex> lock(_mutex);
    if (const std::size_t events = _throttle.count(); events > 0) {
      Poco::Logger::get("echod.server")
          .error("%s%s (%z similar suppressed)", std::string(outOfDescriptors ? "out of file descriptors: " : ""), what,
                 events - 1);
    }
  }
  if (outOfDescriptors) Poco::Thread::sleep(kBackoffMs);
}

}  // namespace echod
