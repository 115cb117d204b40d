#include "service/LogChannel.h"

#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace echod {

void StderrChannel::log(const Poco::Message& msg) {
  std::string line;
  line.reserve(msg.getText().size() + 1);
  line.append(msg.getText()).push_back('\n');
  // One write(2) of up to PIPE_BUF bytes does not interleave with another
  // (pipes guarantee it; files and terminals serialise whole writes), so
  // ordinary lines need no lock: a lock held across a system call is one a
  // thread can be preempted while holding. Longer lines take it.
  std::unique_lock<std::mutex> lock(_mutex, std::defer_lock);
  if (line.size() > PIPE_BUF) lock.lock();
  // Bounded: each pass writes at least one byte or ends; a closed or full
  // standard error loses the line (never the process: SIGPIPE is ignored).
  for (std::size_t done = 0; done < line.size();) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace echod
