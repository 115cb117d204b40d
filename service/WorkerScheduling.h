#pragma once

#include "service/ServerSettings.h"

namespace echod {

/// Puts the calling worker thread under `scheduling` (echo.workerScheduling),
/// once per thread: POCO keeps its pooled threads, and never resets a policy
/// it did not set. When the kernel refuses, the thread stays as it was and a
/// debug line says so.
void applyWorkerScheduling(WorkerScheduling scheduling);

}  // namespace echod
