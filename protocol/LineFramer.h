#pragma once

#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace echod {

/// Splits a byte stream into lines: bytes in, complete lines out.
///
/// A line ends in `\n`; one `\r` right before the `\n` is dropped. Every other
/// byte is data. A line longer than `maxLineLength` bytes (not counting the
/// dropped `\r\n`) stops the framer instead of being buffered, so it never holds
/// more than `maxLineLength + 1` bytes. Lines that lie whole inside one fed
/// chunk are handed out as views into that chunk, without copying.
class LineFramer {
 public:
  explicit LineFramer(std::size_t maxLineLength) : _maxLineLength(maxLineLength) {}

  /// Calls `onLine(std::string_view)` for each complete line in `data`, in
  /// order, until `onLine` returns false or a line is too long. Returns how
  /// many bytes of `data` were consumed.
  template <typename OnLine>
  std::size_t feed(std::string_view data, OnLine&& onLine);

  /// End of stream: the unterminated rest, as if it had ended in `\n`.
  std::optional<std::string_view> finish();

  /// True once a line was longer than the bound; the framer then takes nothing more.
  bool lineTooLong() const noexcept { return _tooLong; }

  /// Bytes of an unfinished line held from earlier chunks.
  std::size_t buffered() const noexcept { return _partial.size(); }

 private:
  static std::string_view dropCarriageReturn(std::string_view line) noexcept {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }
  /// Whether `size` bytes without a `\n`, ending in `last`, can still become a line within the bound.
  bool fitsUnterminated(std::size_t size, char last) const noexcept {
    return size <= _maxLineLength || (size == _maxLineLength + 1 && last == '\r');
  }

  std::size_t _maxLineLength;
  std::string _partial;
  bool _tooLong = false;
};

template <typename OnLine>
std::size_t LineFramer::feed(std::string_view data, OnLine&& onLine) {
  std::size_t pos = 0;
  while (pos < data.size() && !_tooLong) {
    const void* found = std::memchr(data.data() + pos, '\n', data.size() - pos);
    if (found == nullptr) {
      std::string_view rest = data.substr(pos);
      if (!fitsUnterminated(_partial.size() + rest.size(), rest.back())) {
        _tooLong = true;
        break;
      }
      _partial.append(rest);
      return data.size();
    }
    const auto newline = static_cast<std::size_t>(static_cast<const char*>(found) - data.data());
    std::string_view piece = data.substr(pos, newline - pos);
    std::string_view line;
    if (_partial.empty()) {
      line = dropCarriageReturn(piece);
    } else {
      if (_partial.size() + piece.size() > _maxLineLength + 1) {
        _tooLong = true;
        break;
      }
      _partial.append(piece);
      line = dropCarriageReturn(_partial);
    }
    if (line.size() > _maxLineLength) {
      _tooLong = true;
      break;
    }
    pos = newline + 1;
    const bool more = onLine(line);
    _partial.clear();  // keeps its capacity: no allocation once warm
    if (!more) break;
  }
  return pos;
}

inline std::optional<std::string_view> LineFramer::finish() {
  if (_tooLong || _partial.empty()) return std::nullopt;
  return dropCarriageReturn(_partial);
}

}  // namespace echod
