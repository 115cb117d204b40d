#include "service/connection/WorkerScheduling.h"

#include <Poco/Logger.h>

#include <pthread.h>
#include <sched.h>

#include <cstring>
#include <string>

namespace echod {

void applyWorkerScheduling(WorkerScheduling scheduling) {
  thread_local bool applied = false;
  if (applied) return;
  applied = true;
  if (scheduling != WorkerScheduling::Batch) return;
  const sched_param param{};
  const int rc = ::pthread_setschedparam(::pthread_self(), SCHED_BATCH, &param);
  if (rc != 0) {
    Poco::Logger::get("echod.connection")
        .debug("worker thread stays under the default scheduling: %s", std::string(std::strerror(rc)));
  }
}

}  // namespace echod
