#include "service/core/ThreadRandom.h"

#include <random>

namespace echod {

std::uint64_t threadRandom() {
  thread_local std::uint64_t state = 0;  // 0: not seeded yet
  if (state == 0) {
    std::random_device device;
    state = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }
  // SplitMix64 (Steele, Lea and Flood; the constants are its published ones).
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace echod
