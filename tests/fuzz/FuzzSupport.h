#pragma once

// What both fuzz targets of the protocol core share: how a property fails,
// and where the input is cut into reads.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace echod::fuzz {

inline constexpr std::size_t kMaxLine = 64;
inline const std::string kPrefix = "echo : ";

/// A violated property aborts, so libFuzzer keeps the input that did it.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
  }
}

/// Cut points in an input of `size` bytes, from `seed`: a deterministic pseudo-random walk.
inline std::vector<std::size_t> cutsFor(unsigned seed, std::size_t size) {
  std::vector<std::size_t> cuts;
  unsigned state = seed * 2654435761u + 1;
  for (std::size_t pos = 0;;) {
    state = state * 1103515245u + 12345u;
    pos += 1 + (state >> 16) % 13;
    if (pos >= size) break;
    cuts.push_back(pos);
  }
  return cuts;
}

}  // namespace echod::fuzz
