#include "service/ServerErrorHandler.h"

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
    if (_lastLog.isElapsed(1000000)) {
      Poco::Logger::get("echod.server")
          .error("%s%s (%z similar suppressed)", std::string(outOfDescriptors ? "out of file descriptors: " : ""), what,
                 _suppressed);
      _suppressed = 0;
      _lastLog.update();
    } else {
      ++_suppressed;
    }
  }
  if (outOfDescriptors) Poco::Thread::sleep(kBackoffMs);
}

}  // namespace echod
