#include "service/core/PerCpuCounters.h"

#include <sched.h>
#include <unistd.h>

namespace echod {
namespace {

std::size_t linesForThisMachine() {
  const long cpus = ::sysconf(_SC_NPROCESSORS_CONF);
  std::size_t lines = 1;
  while (lines < static_cast<std::size_t>(cpus > 0 ? cpus : 1) && lines < 4096) lines *= 2;
  return lines;
}

}  // namespace

PerCpuCounters::PerCpuCounters() : _mask(linesForThisMachine() - 1), _lines(std::make_unique<Line[]>(_mask + 1)) {}

PerCpuCounters::Line& PerCpuCounters::line() noexcept {
  const int cpu = ::sched_getcpu();  // -1 where the kernel cannot say: every such thread shares line 0
  return _lines[static_cast<std::size_t>(cpu > 0 ? cpu : 0) & _mask];
}

std::uint64_t PerCpuCounters::sum(Field field) const noexcept {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= _mask; ++i) total += _lines[i].counts[field].load(std::memory_order_relaxed);
  return total;
}

}  // namespace echod
