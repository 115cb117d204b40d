#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace echod {

/// Message `seq`: its sequence number in hex up front (so a reply out of order
/// or from another connection fails), then a fixed filler.
class BenchPayload {
 public:
  static constexpr std::size_t kSequenceDigits = 8;
  explicit BenchPayload(std::size_t size) : _filler(size, 'x') {
    for (std::size_t i = 0; i < size; ++i) _filler[i] = static_cast<char>('a' + i % 26);
  }
  /// Message `seq`, without a line's '\n'.
  void append(std::uint64_t seq, std::string& out) const {
    const std::size_t start = out.size();
    out.append(_filler);
    writeSequence(seq, &out[start]);
  }
  bool matches(std::uint64_t seq, std::string_view body) const {
    if (body.size() != _filler.size()) return false;
    char head[kSequenceDigits];
    std::memcpy(head, _filler.data(), std::min(kSequenceDigits, _filler.size()));
    writeSequence(seq, head);
    const std::size_t n = std::min(kSequenceDigits, _filler.size());
    return std::memcmp(body.data(), head, n) == 0 &&
           std::memcmp(body.data() + n, _filler.data() + n, _filler.size() - n) == 0;
  }

 private:
  void writeSequence(std::uint64_t seq, char* at) const {
    static constexpr char kHex[] = "0123456789abcdef";
    const std::size_t n = std::min(kSequenceDigits, _filler.size());
    for (std::size_t i = 0; i < n; ++i) at[n - 1 - i] = kHex[(seq >> (4 * i)) & 0xF];
  }
  std::string _filler;
};

}  // namespace echod
