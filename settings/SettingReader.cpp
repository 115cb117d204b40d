#include "settings/SettingReader.h"

#include <Poco/Environment.h>
#include <Poco/NumberFormatter.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/Util/Option.h>

#include <charconv>
#include <cmath>
#include <optional>

namespace echod {

void addSettingOptions(Poco::Util::OptionSet& options, const std::vector<SettingSpec>& specs) {
  for (const auto& spec : specs) {
    options.addOption(Poco::Util::Option(std::string(spec.option), "", std::string(spec.help))
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
  return _config.getRawString(name);
}

void SettingReader::reject(std::string_view key, std::string_view value, const std::string& expected) const {
  std::string where(key);
  for (const auto& spec : _specs) {
    if (spec.key == key) {
      where += " (--" + std::string(spec.option) + ", " + std::string(spec.env) + ")";
    }
  }
  throw SettingsError("invalid value '" + std::string(value) + "' for " + where + ": " + expected);
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

Poco::Timespan SettingReader::seconds(std::string_view key, double fallback, double min, double max) const {
  double value = fallback;
  if (const auto raw = rawValue(key)) {
    const std::string trimmed = Poco::trim(*raw);
    // NumberParser is locale-independent and rejects trailing garbage.
    if (!Poco::NumberParser::tryParseFloat(trimmed, value) || !std::isfinite(value) || value < min || value > max) {
      reject(
          key, *raw,
          "expected seconds from " + Poco::NumberFormatter::format(min) + " to " + Poco::NumberFormatter::format(max));
    }
  }
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(std::llround(value * 1e6)));
}

bool SettingReader::flag(std::string_view key, bool fallback) const {
  return choice<bool>(key, fallback,
                      {{"true", true}, {"false", false}, {"1", true}, {"0", false}, {"yes", true}, {"no", false}});
}

}  // namespace echod
