#include "service/server/PoolSizing.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace echod {
namespace {

namespace fs = std::filesystem;

/// Above this a limit means "none" (cgroup v1 writes 2^63 rounded to pages).
constexpr std::int64_t kUnlimited = std::int64_t{1} << 60;

std::optional<std::int64_t> readNumber(const fs::path& path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max") return std::nullopt;
  try {
    const long long value = std::stoll(word);
    if (value < 0 || value >= kUnlimited) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::int64_t> tighter(std::optional<std::int64_t> a, std::optional<std::int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

/// The tightest `limit - usage` over a cgroup and its ancestors up to the mount.
std::optional<std::int64_t> roomInHierarchy(const fs::path& mount, const std::string& path, const char* limitFile,
                                            const char* usageFile) {
  if (!fs::exists(mount)) return std::nullopt;
  fs::path dir = mount / fs::path(path).relative_path();
  // Without a cgroup namespace the path names the host's hierarchy, while the
  // container sees its own cgroup mounted as the root: fall back to the mount.
  if (!fs::exists(dir)) dir = mount;
  std::optional<std::int64_t> room;
  for (;;) {
    const auto limit = readNumber(dir / limitFile);
    if (limit) room = tighter(room, *limit - readNumber(dir / usageFile).value_or(0));
    if (dir == mount || !dir.has_parent_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  return room;
}

std::int64_t systemTasks() {
  std::ifstream in("/proc/loadavg");
  std::string skip;
  std::string running;
  in >> skip >> skip >> skip >> running;  // "3/107": runnable / all tasks
  const auto slash = running.find('/');
  if (slash == std::string::npos) return 0;
  try {
    return std::stoll(running.substr(slash + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

std::optional<std::int64_t> softLimit(int resource) {
  rlimit limit{};
  if (::getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return std::nullopt;
  return static_cast<std::int64_t>(limit.rlim_cur);
}

std::optional<std::int64_t> memTotal() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::int64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemTotal:") return kib * 1024;
  }
  return std::nullopt;
}

}  // namespace

MachineLimits readMachineLimits() {
  MachineLimits limits;
  std::ifstream cgroups("/proc/self/cgroup");
  const bool unifiedAtRoot = fs::exists("/sys/fs/cgroup/cgroup.controllers");
  const fs::path unified = unifiedAtRoot ? fs::path("/sys/fs/cgroup") : fs::path("/sys/fs/cgroup/unified");
  for (std::string line; std::getline(cgroups, line);) {
    // "hierarchy-id:controller,list:/path"; v2 is "0::/path".
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
    const std::string path = line.substr(second + 1);
    if (controllers == ",,") {
      limits.cgroupPids = tighter(limits.cgroupPids, roomInHierarchy(unified, path, "pids.max", "pids.current"));
      limits.cgroupMemoryBytes =
          tighter(limits.cgroupMemoryBytes, roomInHierarchy(unified, path, "memory.max", "memory.current"));
    } else if (controllers.find(",pids,") != std::string::npos) {
      limits.cgroupPids =
          tighter(limits.cgroupPids, roomInHierarchy("/sys/fs/cgroup/pids", path, "pids.max", "pids.current"));
    } else if (controllers.find(",memory,") != std::string::npos) {
      limits.cgroupMemoryBytes =
          tighter(limits.cgroupMemoryBytes,
                  roomInHierarchy("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes", "memory.usage_in_bytes"));
    }
  }
  limits.physicalMemoryBytes = memTotal();
  limits.nproc = softLimit(RLIMIT_NPROC);
  limits.nofile = softLimit(RLIMIT_NOFILE);
  const std::int64_t tasks = systemTasks();
  if (const auto max = readNumber("/proc/sys/kernel/threads-max")) limits.threadsMax = *max - tasks;
  if (const auto max = readNumber("/proc/sys/kernel/pid_max")) limits.pidMax = *max - tasks;
  limits.mapCount = readNumber("/proc/sys/vm/max_map_count");
  limits.root = ::geteuid() == 0;
  return limits;
}

std::int64_t raiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? kUnlimited : static_cast<std::int64_t>(limit.rlim_cur);
}

PoolSize PoolSizing::fromLimits(const MachineLimits& limits, int maxQueued) {
  struct Candidate {
    const char* name;
    std::optional<std::int64_t> threads;
  };
  const auto perConnection = [](std::optional<std::int64_t> bytes) -> std::optional<std::int64_t> {
    if (!bytes) return std::nullopt;
    return (*bytes - kReservedBytes) / kBytesPerConnection;
  };
  const auto less = [](std::optional<std::int64_t> room, std::int64_t reserved) -> std::optional<std::int64_t> {
    if (!room) return std::nullopt;
    return *room - reserved;
  };
  const std::vector<Candidate> candidates{
      {"cgroup pids.max", less(limits.cgroupPids, kReservedThreads)},
      {"cgroup memory limit", perConnection(limits.cgroupMemoryBytes)},
      {"physical memory", perConnection(limits.physicalMemoryBytes)},
      {"RLIMIT_NPROC", limits.root ? std::nullopt : less(limits.nproc, kReservedThreads)},
      // Every connection is a descriptor, and so is every queued one.
      {"RLIMIT_NOFILE", less(limits.nofile, kReservedFiles + maxQueued)},
      {"kernel.threads-max", less(limits.threadsMax, kReservedThreads)},
      {"kernel.pid_max", less(limits.pidMax, kReservedThreads)},
      {"vm.max_map_count", limits.mapCount ? std::optional<std::int64_t>((*limits.mapCount - 1024) / 2) : std::nullopt},
  };
  PoolSize size{kCap, "the built-in cap", ""};
  std::ostringstream detail;
  detail << "cap " << kCap;
  for (const auto& candidate : candidates) {
    if (!candidate.threads) continue;
    detail << ", " << candidate.name << " " << *candidate.threads;
    if (*candidate.threads < size.threads) {
      size.threads = static_cast<int>(std::max<std::int64_t>(*candidate.threads, 1));
      size.decidedBy = candidate.name;
    }
  }
  size.detail = detail.str();
  return size;
}

}  // namespace echod
