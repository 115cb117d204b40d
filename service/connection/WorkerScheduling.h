#pragma once

namespace echod {

/// How the kernel schedules worker threads (echo.workerScheduling in docs/configuration.md).
enum class WorkerScheduling {
  Batch,   ///< SCHED_BATCH: a woken worker does not preempt a running one
  Normal,  ///< SCHED_OTHER, the kernel's default
};

/// Puts the calling worker thread under `scheduling`, once per thread: POCO
/// keeps its pooled threads, and never resets a policy it did not set. When
/// the kernel refuses, the thread stays as it was and a debug line says so.
void applyWorkerScheduling(WorkerScheduling scheduling);

}  // namespace echod
