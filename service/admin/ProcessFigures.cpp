#include "service/admin/ProcessFigures.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace echod {

ProcessFigures processFigures() {
  ProcessFigures f;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream statFile("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');
  if (paren != std::string::npos) {
    // Fields after "(comm)" start at field 3: utime 14, stime 15, threads 20, starttime 22, vsize 23, rss 24.
    std::istringstream fields(stat.substr(paren + 2));
    std::vector<std::string> v((std::istream_iterator<std::string>(fields)), std::istream_iterator<std::string>());
    const auto field = [&v](std::size_t n) { return n - 3 < v.size() ? std::stod(v[n - 3]) : 0.0; };
    f.cpuSeconds = (field(14) + field(15)) / ticks;
    f.threads = field(20);
    f.virtualBytes = field(23);
    f.residentBytes = field(24) * page;
    std::ifstream procStat("/proc/stat");
    for (std::string key; procStat >> key;) {
      if (key == "btime") {
        double boot = 0;
        procStat >> boot;
        f.startTimeSeconds = boot + field(22) / ticks;
        break;
      }
    }
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    ++f.openFds;
  }
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0) f.maxFds = static_cast<double>(files.rlim_cur);
  return f;
}

}  // namespace echod
