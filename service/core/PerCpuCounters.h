#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace echod {

/// Counters that every read adds to, kept one cache line per CPU: a worker
/// adds to the line of the CPU it runs on, so workers on different cores
/// never write the same line (one shared line bounced between 16 cores on
/// every read), and sum() adds the lines up when /metrics or the console
/// asks. A thread that moves to another CPU between finding its line and
/// adding to it still adds correctly (the adds are atomic), only once to a
/// line that is not its CPU's.
class PerCpuCounters {
 public:
  enum Field : std::size_t { Messages, BytesReceived, BytesSent, kFields };

  /// One line for each CPU the system may have (sysconf _SC_NPROCESSORS_CONF).
  PerCpuCounters();

  /// Adds `n` to `field` on this CPU's line: sched_getcpu() (read from the
  /// thread's rseq area, no system call) and one relaxed add.
  void add(Field field, std::uint64_t n) noexcept { line().counts[field].fetch_add(n, std::memory_order_relaxed); }
  /// The total of `field` over every CPU.
  std::uint64_t sum(Field field) const noexcept;

 private:
  struct alignas(64) Line {
    std::array<std::atomic<std::uint64_t>, kFields> counts{};
  };
  Line& line() noexcept;

  std::size_t _mask;  ///< lines - 1; the lines are a power of two
  std::unique_ptr<Line[]> _lines;
};

}  // namespace echod
