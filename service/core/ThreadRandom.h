#pragma once

#include <cstdint>

namespace echod {

/// 64 random bits from the calling thread's own generator (SplitMix64,
/// seeded from std::random_device on the thread's first draw): for the
/// per-connection draws (an age limit's jitter, faults on demand).
///
/// Not a thread_local std::mt19937_64: its 2.5 KiB of state would sit in
/// every thread's static TLS block, which glibc zeroes when it creates each
/// thread, drawing or not. Two of them made every worker start touch one
/// more page (a fresh burst of 10,000 connections starts 10,000 threads).
/// This one keeps 8 bytes there.
std::uint64_t threadRandom();

}  // namespace echod
