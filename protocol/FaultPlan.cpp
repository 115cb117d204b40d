#include "protocol/FaultPlan.h"

#include <charconv>

namespace echod {
namespace {

std::optional<std::int64_t> milliseconds(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

const char* faultName(FaultKind kind) noexcept {
  switch (kind) {
    case FaultKind::Reset:
      return "reset";
    case FaultKind::Close:
      return "close";
    case FaultKind::Hang:
      return "hang";
    case FaultKind::None:
      break;
  }
  return "none";
}

std::string FaultOptions::describe() const {
  std::string out;
  const auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (delayMaxMs > 0) {
    add("reply delay " +
        (delayMinMs == delayMaxMs ? std::to_string(delayMaxMs)
                                  : std::to_string(delayMinMs) + "-" + std::to_string(delayMaxMs)) +
        " ms");
  }
  if (chunk > 0) {
    add("replies in " + std::to_string(chunk) + "-byte chunks every " + std::to_string(chunkIntervalMs) + " ms");
  }
  if (fault != FaultKind::None)
    add(std::string(faultName(fault)) + " after " + std::to_string(faultAfter) + " replies");
  if (out.empty()) return "none";
  return out + ", on " + std::to_string(sharePercent) + " % of connections";
}

std::optional<std::pair<std::int64_t, std::int64_t>> parseDelayRange(std::string_view text, std::int64_t max) {
  const auto dash = text.find('-');
  const auto low = milliseconds(text.substr(0, dash));
  const auto high = dash == std::string_view::npos ? low : milliseconds(text.substr(dash + 1));
  if (!low || !high || *low > *high || *high > max) return std::nullopt;
  return std::make_pair(*low, *high);
}

FaultPlan::FaultPlan(const FaultOptions& options, std::uint64_t seed)
    : _options(options), _state(seed), _drawn(options.any() && static_cast<int>(next() % 100) < options.sharePercent) {}

std::int64_t FaultPlan::nextDelayMs() noexcept {
  const auto span = static_cast<std::uint64_t>(_options.delayMaxMs - _options.delayMinMs);
  if (span == 0) return _options.delayMaxMs;
  return _options.delayMinMs + static_cast<std::int64_t>(next() % (span + 1));
}

std::uint64_t FaultPlan::next() noexcept {
  std::uint64_t z = (_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace echod
