#pragma once

#include <Poco/ErrorHandler.h>

#include <mutex>
#include <string>

#include "service/logging/LogThrottle.h"

namespace echod {

/// Where POCO reports exceptions its own threads caught, most of all the
/// acceptor's failed accept(). Logs them at most once a second, and when
/// file descriptors run out it slows the acceptor down: POCO retries at once,
/// which would spin a core until connections close.
class ServerErrorHandler : public Poco::ErrorHandler {
 public:
  void exception(const Poco::Exception& e) override;
  void exception(const std::exception& e) override;
  void exception() override;

 private:
  void report(const std::string& what, bool outOfDescriptors);

  std::mutex _mutex;
  LogThrottle _throttle;  ///< guarded by _mutex
};

}  // namespace echod
