#pragma once

namespace echod {

/// The process figures every official Prometheus client exports (process_*), from /proc.
struct ProcessFigures {
  double cpuSeconds = 0;
  double startTimeSeconds = 0;
  double virtualBytes = 0;
  double residentBytes = 0;
  double openFds = 0;
  double maxFds = 0;
  double threads = 0;
};

/// Reads them now: /proc/self/stat, /proc/stat, /proc/self/fd, RLIMIT_NOFILE.
ProcessFigures processFigures();

}  // namespace echod
