// The model's floor, measured: what one context switch costs on this
// machine. Two threads pinned to the same CPU pass a token back and forth
// through a pair of blocking pipes; each pass is a write that wakes the other
// thread and a read that blocks this one, so a round trip is two switches.
// Prints ns per switch (the median of --rounds runs of --passes round trips).
//   context-switch [--cpu=0] [--passes=200000] [--rounds=5]
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) != 0) {
    std::fprintf(stderr, "context-switch: cannot pin to CPU %d\n", cpu);
    std::exit(1);
  }
}

double nsPerSwitch(int cpu, long passes) {
  int ping[2];
  int pong[2];
  if (::pipe(ping) != 0 || ::pipe(pong) != 0) std::exit(1);
  std::thread other([&] {
    pin(cpu);
    char token = 0;
    for (long i = 0; i < passes; ++i) {
      if (::read(ping[0], &token, 1) != 1 || ::write(pong[1], &token, 1) != 1) std::exit(1);
    }
  });
  pin(cpu);
  char token = 't';
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < passes; ++i) {
    if (::write(ping[1], &token, 1) != 1 || ::read(pong[0], &token, 1) != 1) std::exit(1);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  other.join();
  for (const int fd : {ping[0], ping[1], pong[0], pong[1]}) ::close(fd);
  return std::chrono::duration<double, std::nano>(elapsed).count() / (2.0 * static_cast<double>(passes));
}

}  // namespace

int main(int argc, char** argv) {
  int cpu = 0;
  long passes = 200000;
  int rounds = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&](const char* name) { return std::atol(arg.substr(std::string(name).size()).c_str()); };
    if (arg.rfind("--cpu=", 0) == 0) {
      cpu = static_cast<int>(value("--cpu="));
    } else if (arg.rfind("--passes=", 0) == 0) {
      passes = std::clamp(value("--passes="), 1000L, 10000000L);
    } else if (arg.rfind("--rounds=", 0) == 0) {
      rounds = static_cast<int>(std::clamp(value("--rounds="), 1L, 50L));
    } else {
      std::fprintf(stderr, "usage: context-switch [--cpu=N] [--passes=N] [--rounds=N]\n");
      return 64;
    }
  }
  std::vector<double> results;
  results.reserve(static_cast<std::size_t>(rounds));
  for (int r = 0; r < rounds; ++r) results.push_back(nsPerSwitch(cpu, passes));
  std::sort(results.begin(), results.end());
  std::printf("context switch: %.0f ns (median of %d rounds of %ld round trips on CPU %d, pipes)\n",
              results[results.size() / 2], rounds, passes, cpu);
  return 0;
}
