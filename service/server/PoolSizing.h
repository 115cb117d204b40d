#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace echod {

/// The limits that bound how many threads and sockets this process can hold,
/// as read from the machine. Each is "room left" where the kernel counts usage
/// (a cgroup's pids.current, the system's task count), or the bare limit where
/// it does not; absent means unlimited or not found.
struct MachineLimits {
  std::optional<std::int64_t> cgroupPids;           ///< pids.max - pids.current, tightest cgroup on the path
  std::optional<std::int64_t> cgroupMemoryBytes;    ///< memory.max (v2) / memory.limit_in_bytes (v1) - usage
  std::optional<std::int64_t> physicalMemoryBytes;  ///< MemTotal
  std::optional<std::int64_t> nproc;                ///< RLIMIT_NPROC (soft); not enforced for root
  std::optional<std::int64_t> nofile;               ///< RLIMIT_NOFILE (soft), after raiseFileLimit()
  std::optional<std::int64_t> threadsMax;           ///< kernel.threads-max - tasks on the system
  std::optional<std::int64_t> pidMax;               ///< kernel.pid_max - tasks on the system: a thread is a pid
  std::optional<std::int64_t> mapCount;             ///< vm.max_map_count: each thread stack takes two mappings
  bool root = false;                                ///< RLIMIT_NPROC does not bind root
};

/// A pool size and the limit that decided it, for the start-up log and /metrics.
struct PoolSize {
  int threads = 0;
  std::string decidedBy;  ///< e.g. "cgroup pids.max", "RLIMIT_NOFILE", "the built-in cap"
  std::string detail;     ///< one line: every limit and what it allows, for the log
};

/// Sizing rules, documented in docs/configuration.md ("Worker pool size").
struct PoolSizing {
  static constexpr int kCap = 16384;                              ///< a sane maximum: ~330 MiB at 20 KiB a connection
  static constexpr int kReservedThreads = 32;                     ///< acceptor, housekeeper, admin, logging, main
  static constexpr int kReservedFiles = 64;                       ///< listeners, logs, /proc reads, admin clients
  static constexpr std::int64_t kBytesPerConnection = 64 * 1024;  ///< stack pages, buffers, kernel task and socket
  static constexpr std::int64_t kReservedBytes = 32 << 20;        ///< the process without connections

  /// The pool for `limits` when each connection also may wait in a queue of `maxQueued`.
  static PoolSize fromLimits(const MachineLimits& limits, int maxQueued);
};

/// Reads the limits this process has now (cgroup v1 and v2, rlimits, /proc/sys).
MachineLimits readMachineLimits();

/// Raises the soft RLIMIT_NOFILE to the hard limit, as Go's runtime and nginx
/// do: the hard limit is what the administrator granted. Returns the soft limit now.
std::int64_t raiseFileLimit();

}  // namespace echod
