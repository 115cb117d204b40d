#include "protocol/Rollout.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

namespace echod {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// A plain decimal number (digits, at most one point), no sign, no exponent.
std::optional<double> decimal(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  bool point = false;
  bool digit = false;
  for (const char c : text) {
    if (c == '.' && !point) {
      point = true;
    } else if (c >= '0' && c <= '9') {
      digit = true;
    } else {
      return std::nullopt;
    }
  }
  if (!digit) return std::nullopt;
  return std::strtod(std::string(text).c_str(), nullptr);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

}  // namespace

std::optional<Labels> parseLabels(std::string_view text, std::string& error) {
  Labels labels;
  text = trim(text);
  if (text.empty()) return labels;
  std::set<std::string> seen;
  for (const std::string_view part : split(text, ',')) {
    const std::string_view item = trim(part);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      error = "'" + std::string(item) + "' is not key=value";
      return std::nullopt;
    }
    const std::string key(trim(item.substr(0, eq)));
    const std::string value(trim(item.substr(eq + 1)));
    if (key.size() > 63 || !std::all_of(key.begin(), key.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        })) {
      error = "label key '" + key + "': at most 63 of a-z 0-9 _ . -";
      return std::nullopt;
    }
    if (value.size() > 255) {
      error = "label " + key + ": a value of at most 255 bytes";
      return std::nullopt;
    }
    if (!seen.insert(key).second) {
      error = "label " + key + " given twice";
      return std::nullopt;
    }
    labels.emplace_back(key, value);
    if (labels.size() > kMaxLabels) {
      error = "at most " + std::to_string(kMaxLabels) + " labels";
      return std::nullopt;
    }
  }
  return labels;
}

std::optional<AgeLimit> AgeLimit::parse(std::string_view text, std::string& error) {
  text = trim(text);
  const auto tilde = text.find('~');
  const auto seconds = decimal(trim(text.substr(0, tilde)));
  const auto jitter =
      tilde == std::string_view::npos ? std::optional<double>(0) : decimal(trim(text.substr(tilde + 1)));
  constexpr double kLongest = 30 * 86400;
  if (!seconds || !jitter || *seconds > kLongest) {
    error = "S or S~J seconds (e.g. 300 or 300~30), at most 30 days";
    return std::nullopt;
  }
  if (*seconds == 0 && *jitter == 0) return AgeLimit{};
  if (*jitter >= *seconds || *seconds < 0.1) {
    error = "a jitter J below the age S, and S of at least 0.1 s";
    return std::nullopt;
  }
  AgeLimit limit;
  limit.minMs = std::max<std::int64_t>(100, std::llround((*seconds - *jitter) * 1000));
  limit.maxMs = std::llround((*seconds + *jitter) * 1000);
  return limit;
}

std::int64_t AgeLimit::draw(std::uint64_t random) const noexcept {
  if (maxMs <= minMs) return maxMs;
  const auto span = static_cast<std::uint64_t>(maxMs - minMs) + 1;
  return minMs + static_cast<std::int64_t>(random % span);
}

std::string AgeLimit::describe() const {
  if (!any()) return "none";
  const auto seconds = [](std::int64_t ms) {
    std::string text = std::to_string(ms / 1000);
    if (ms % 1000 != 0) text += "." + std::to_string(ms % 1000 + 1000).substr(1);
    return text + " s";
  };
  if (minMs == maxMs) return seconds(maxMs);
  return seconds((minMs + maxMs) / 2) + " ~ " + seconds((maxMs - minMs) / 2);
}

std::optional<std::vector<ShareBand>> parseExpect(std::string_view text, std::string& error) {
  std::vector<ShareBand> bands;
  for (const std::string_view part : split(trim(text), ',')) {
    const std::string_view item = trim(part);
    const auto colon = item.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = "'" + std::string(item) + "' is not VALUE:PCT or VALUE:PCT~TOL";
      return std::nullopt;
    }
    ShareBand band;
    band.value = std::string(item.substr(0, colon));
    const std::string_view numbers = item.substr(colon + 1);
    const auto tilde = numbers.find('~');
    const auto percent = decimal(numbers.substr(0, tilde));
    const auto tolerance =
        tilde == std::string_view::npos ? std::optional<double>(5) : decimal(numbers.substr(tilde + 1));
    if (!percent || !tolerance || *percent > 100 || *tolerance > 100) {
      error = "'" + std::string(item) + "': a percent and a tolerance from 0 to 100";
      return std::nullopt;
    }
    band.percent = *percent;
    band.tolerance = *tolerance;
    bands.push_back(std::move(band));
  }
  if (bands.empty()) {
    error = "no band";
    return std::nullopt;
  }
  return bands;
}

std::vector<BandCheck> checkBands(const std::vector<ShareBand>& bands,
                                  const std::map<std::string, std::uint64_t>& counts, std::uint64_t answered) {
  std::vector<BandCheck> checks;
  for (const ShareBand& band : bands) {
    BandCheck check;
    check.band = band;
    const auto it = counts.find(band.value);
    const std::uint64_t count = it == counts.end() ? 0 : it->second;
    check.share = answered == 0 ? 0 : 100.0 * static_cast<double>(count) / static_cast<double>(answered);
    // A rounding margin: 33.33 % holds a band of 33~0.5 as it reads.
    check.holds = answered > 0 && std::fabs(check.share - band.percent) <= band.tolerance + 1e-9;
    checks.push_back(std::move(check));
  }
  return checks;
}

std::vector<double> IdleTimeoutSearch::firstRound() const {
  std::vector<double> silences;
  for (int i = 1; i <= kFirstRound; ++i) silences.push_back(_max * i / kFirstRound);
  return silences;
}

std::vector<double> IdleTimeoutSearch::secondRound(double survived, std::optional<double> died) const {
  if (!died || *died <= survived) return {};
  std::vector<double> silences;
  const int probes = kProbes - kFirstRound;
  for (int i = 1; i <= probes; ++i) silences.push_back(survived + (*died - survived) * i / (probes + 1));
  return silences;
}

}  // namespace echod
