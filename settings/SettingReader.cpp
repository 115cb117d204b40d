#include "settings/SettingReader.h"

#include <Poco/Environment.h>
#include <Poco/NumberFormatter.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/Util/Option.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

extern char** environ;

namespace echod {

std::string defaultText(std::int64_t value) { return std::to_string(value); }

std::string defaultSeconds(const Poco::Timespan& value) {
  const auto micros = value.totalMicroseconds();
  if (micros % 1000000 == 0) return std::to_string(micros / 1000000);
  return Poco::NumberFormatter::format(static_cast<double>(micros) / 1e6);
}

std::string defaultWord(std::string_view value) {
  const bool spaced = !value.empty() && (value.front() == ' ' || value.back() == ' ');
  return spaced ? "'" + std::string(value) + "'" : std::string(value);
}

void addSettingOptions(Poco::Util::OptionSet& options, const std::vector<SettingSpec>& specs) {
  for (const auto& spec : specs) {
    std::string help(spec.help);
    if (!spec.defaultValue.empty()) help += " (default " + spec.defaultValue + ")";
    options.addOption(Poco::Util::Option(std::string(spec.option), "", help)
                          .required(false)
                          .repeatable(false)
                          .argument(std::string(spec.argument))
                          .binding(std::string(spec.key)));
  }
}

Poco::AutoPtr<Poco::Util::MapConfiguration> environmentLayer(const std::vector<SettingSpec>& specs) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> layer(new Poco::Util::MapConfiguration);
  for (const auto& spec : specs) {
    const std::string name(spec.env);
    if (!name.empty() && Poco::Environment::has(name)) {
      layer->setString(std::string(spec.key), Poco::Environment::get(name));
    }
  }
  return layer;
}

std::optional<std::string> SettingReader::rawValue(std::string_view key) const {
  const std::string name(key);
  if (!_config.hasProperty(name)) return std::nullopt;
  // Raw: values such as a prefix may hold "${", which must not be expanded.
  std::string value = _config.getRawString(name);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  return value;
}

std::string settingName(const std::vector<SettingSpec>& specs, std::string_view key) {
  std::string where(key);
  for (const auto& spec : specs) {
    if (spec.key == key) {
      where += " (--" + std::string(spec.option) + (spec.env.empty() ? "" : ", " + std::string(spec.env)) + ")";
    }
  }
  return where;
}

void SettingReader::reject(std::string_view key, std::string_view value, const std::string& expected) const {
  throw SettingsError("invalid value '" + std::string(value) + "' for " + settingName(_specs, key) + ": " + expected);
}

std::string SettingReader::text(std::string_view key, std::string_view fallback, std::size_t maxSize) const {
  const auto raw = rawValue(key);
  if (!raw) return std::string(fallback);
  if (raw->size() > maxSize) reject(key, *raw, "at most " + std::to_string(maxSize) + " bytes");
  return *raw;
}

std::int64_t SettingReader::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                    std::int64_t max) const {
  const auto raw = rawValue(key);
  if (!raw) return fallback;
  const std::string trimmed = Poco::trim(*raw);
  std::int64_t value = 0;
  const char* end = trimmed.data() + trimmed.size();
  const auto [ptr, ec] = std::from_chars(trimmed.data(), end, value);
  if (trimmed.empty() || ec != std::errc() || ptr != end || value < min || value > max) {
    reject(key, *raw, "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

Poco::Timespan SettingReader::seconds(std::string_view key, const Poco::Timespan& fallback, double min,
                                      double max) const {
  const auto raw = rawValue(key);
  if (!raw) return fallback;
  const std::string trimmed = Poco::trim(*raw);
  double value = 0;
  // NumberParser is locale-independent and rejects trailing garbage.
  if (!Poco::NumberParser::tryParseFloat(trimmed, value) || !std::isfinite(value) || value < min || value > max) {
    reject(key, *raw,
           "expected seconds from " + Poco::NumberFormatter::format(min) + " to " + Poco::NumberFormatter::format(max));
  }
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(std::llround(value * 1e6)));
}

bool SettingReader::flag(std::string_view key, bool fallback) const {
  return choice<bool>(key, fallback,
                      {{"true", true}, {"false", false}, {"1", true}, {"0", false}, {"yes", true}, {"no", false}});
}

namespace {

/// Edit distance, to suggest the key a typo meant. Keys are short: O(n*m) is nothing.
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const bool same =
          std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

template <typename NameOf>
std::string closest(std::string_view name, const std::vector<SettingSpec>& specs, NameOf nameOf) {
  std::string best;
  std::size_t bestDistance = std::string::npos;
  for (const auto& spec : specs) {
    const std::string_view candidate = nameOf(spec);
    if (candidate.empty()) continue;
    const std::size_t d = distance(name, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = std::string(candidate);
    }
  }
  // A suggestion only when it is plausibly the same word.
  return bestDistance <= std::max<std::size_t>(3, name.size() / 3) ? best : std::string();
}

void leafKeys(const Poco::Util::AbstractConfiguration& config, const std::string& root, std::vector<std::string>& out,
              int depth) {
  Poco::Util::AbstractConfiguration::Keys keys;
  config.keys(root, keys);
  for (const auto& key : keys) {
    std::string full = root;
    if (!full.empty()) full += '.';
    full += key;
    if (config.hasProperty(full)) out.push_back(full);
    if (depth < 8) leafKeys(config, full, out, depth + 1);  // a key can be both a value and a parent
  }
}

}  // namespace

std::vector<std::string> unknownKeys(const Poco::Util::AbstractConfiguration& config, const std::string& source,
                                     const std::vector<SettingSpec>& specs) {
  std::vector<std::string> warnings;
  std::vector<std::string> keys;
  leafKeys(config, "", keys, 0);
  for (const auto& key : keys) {
    const bool known = std::any_of(specs.begin(), specs.end(), [&](const SettingSpec& s) { return s.key == key; });
    if (known) continue;
    const std::string guess = closest(key, specs, [](const SettingSpec& s) { return s.key; });
    std::string warning = "unknown setting " + key;
    warning += " in " + source + " is ignored";
    if (!guess.empty()) warning += "; did you mean " + guess + "?";
    warnings.push_back(warning);
  }
  return warnings;
}

std::vector<std::string> unknownEnvironment(const std::vector<SettingSpec>& specs,
                                            const std::vector<std::string_view>& ignored) {
  std::vector<std::string> warnings;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view pair(*entry);
    const std::string_view name = pair.substr(0, pair.find('='));
    if (name.substr(0, 5) != "ECHO_") continue;
    const auto named = [&](const SettingSpec& s) { return s.env == name; };
    if (std::any_of(specs.begin(), specs.end(), named)) continue;
    if (std::find(ignored.begin(), ignored.end(), name) != ignored.end()) continue;
    const std::string guess = closest(name, specs, [](const SettingSpec& s) { return s.env; });
    warnings.push_back("unknown environment variable " + std::string(name) + " is ignored" +
                       (guess.empty() ? std::string() : "; did you mean " + guess + "?"));
  }
  return warnings;
}

}  // namespace echod
