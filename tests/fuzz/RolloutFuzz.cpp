// libFuzzer target for the parsers of rollouts and connection lifetime
// (protocol/Rollout.h): echo.labels, echo.maxConnectionAge and the client's
// --expect. Properties, not only "no crash":
//   - labels that parse are at most 16, keys of [a-z0-9_.-], each once, and
//     written back as key=value,... they parse to the same list;
//   - an age limit that parses is none, or 100 ms <= min <= max, and every
//     draw lies within it;
//   - bands that parse have percents and tolerances within 0..100, and a
//     band holds exactly when its share is within its tolerance;
//   - the idle-timeout search's rounds stay within their bounds.
// Input: byte 0 picks the parser; the rest is its text (and, for bands and
// draws, also the counts and random values).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "FuzzSupport.h"
#include "protocol/Rollout.h"

namespace {

using echod::fuzz::check;

std::uint64_t word(std::string_view bytes, std::size_t at) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8 && at + i < bytes.size(); ++i)
    value = value << 8 | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

void labels(std::string_view text) {
  std::string error;
  const auto parsed = echod::parseLabels(text, error);
  if (!parsed) {
    check(!error.empty(), "a refusal says why");
    return;
  }
  check(parsed->size() <= echod::kMaxLabels, "at most 16 labels");
  std::set<std::string> keys;
  std::string written;
  for (const auto& [key, value] : *parsed) {
    check(!key.empty() && key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.-") == std::string::npos,
          "keys of a-z 0-9 _ . -");
    check(keys.insert(key).second, "each key once");
    check(value.find(',') == std::string::npos, "no comma in a value");
    written += (written.empty() ? "" : ",") + key + "=" + value;
  }
  const auto again = echod::parseLabels(written, error);
  // Values are trimmed, so one written back parses to itself.
  check(again && *again == *parsed, "labels written back parse the same");
}

void age(std::string_view text) {
  std::string error;
  const auto parsed = echod::AgeLimit::parse(text, error);
  if (!parsed) {
    check(!error.empty(), "a refusal says why");
    return;
  }
  check(!parsed->describe().empty(), "an age limit describes itself");
  if (!parsed->any()) return;
  check(parsed->minMs >= 100 && parsed->minMs <= parsed->maxMs, "100 ms <= min <= max");
  for (std::size_t at = 0; at < text.size(); at += 8) {
    const std::int64_t drawn = parsed->draw(word(text, at));
    check(drawn >= parsed->minMs && drawn <= parsed->maxMs, "a draw within the band");
  }
}

void bands(std::string_view text) {
  std::string error;
  const auto parsed = echod::parseExpect(text, error);
  if (!parsed) {
    check(!error.empty(), "a refusal says why");
    return;
  }
  std::map<std::string, std::uint64_t> counts;
  std::uint64_t answered = 0;
  for (std::size_t i = 0; i < parsed->size(); ++i) {
    const std::uint64_t count = word(text, i * 3) % 1000;
    counts[(*parsed)[i].value] += count;
    answered += count;
  }
  answered += word(text, 1) % 7;  // others
  for (const auto& check_ : echod::checkBands(*parsed, counts, answered)) {
    check(check_.band.percent >= 0 && check_.band.percent <= 100, "a percent within 0..100");
    check(check_.band.tolerance >= 0 && check_.band.tolerance <= 100, "a tolerance within 0..100");
    check(check_.share >= 0 && check_.share <= 100 + 1e-9, "a share within 0..100");
    if (answered > 0) {
      check(check_.holds == (std::fabs(check_.share - check_.band.percent) <= check_.band.tolerance + 1e-9),
            "a band holds exactly within its tolerance");
    } else {
      check(!check_.holds, "nothing answered: no band holds");
    }
  }
}

void search(std::string_view bytes) {
  const double max = 1 + static_cast<double>(word(bytes, 0) % 3600000) / 1000;
  const echod::IdleTimeoutSearch s(max);
  double previous = 0;
  for (const double silence : s.firstRound()) {
    check(silence > previous && silence <= max + 1e-9, "the first round rises to the max");
    previous = silence;
  }
  const double survived = static_cast<double>(word(bytes, 8) % 3600000) / 1000;
  const double died = static_cast<double>(word(bytes, 16) % 3600000) / 1000;
  const auto second = s.secondRound(survived, died);
  check(second.size() + s.firstRound().size() <= echod::IdleTimeoutSearch::kProbes, "at most 12 probes");
  for (const double silence : second) check(silence > survived && silence < died, "the second round within the gap");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      labels(text);
      break;
    case 1:
      age(text);
      break;
    case 2:
      bands(text);
      break;
    default:
      search(text);
  }
  return 0;
}
