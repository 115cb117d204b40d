#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/Timespan.h>
#include <Poco/Util/AbstractConfiguration.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/OptionSet.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace echod {

/// One setting as a user can give it: a configuration key (file), an
/// environment variable and a `--option=value`. Server and client each keep
/// one table of these; it drives their options, environment and `--help`.
struct SettingSpec {
  std::string_view key;       ///< e.g. "echo.port", in the properties file
  std::string_view option;    ///< e.g. "port", given as --port=VALUE
  std::string_view env;       ///< e.g. "ECHO_PORT"
  std::string_view argument;  ///< placeholder in --help, e.g. "N"
  std::string help;           ///< one line, without the default
  std::string defaultValue;   ///< rendered from the settings struct's own default; empty: none shown
};

/// Renders a default for a spec: seconds as "300" or "0.5", text in quotes when it has spaces at an end.
std::string defaultText(std::int64_t value);
std::string defaultSeconds(const Poco::Timespan& value);
std::string defaultWord(std::string_view value);

/// A setting as messages name it: "echo.port (--port, ECHO_PORT)".
std::string settingName(const std::vector<SettingSpec>& specs, std::string_view key);

/// A setting has a value it cannot take. The message names the setting, how it
/// is given and the bad value, so that it can be shown to the user as it is.
class SettingsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Adds one `--option=VALUE` per spec, bound to its configuration key, so a
/// command-line value lands in the application's own (highest) layer. The
/// help line ends in "(default X)", X from the spec's defaultValue.
void addSettingOptions(Poco::Util::OptionSet& options, const std::vector<SettingSpec>& specs);

/// The environment as a configuration layer: `ECHO_PORT=5000` becomes `echo.port = 5000`.
Poco::AutoPtr<Poco::Util::MapConfiguration> environmentLayer(const std::vector<SettingSpec>& specs);

/// Reads typed values out of POCO's layered configuration, checking each once;
/// a missing key gives the default, a bad value throws SettingsError. A value
/// wrapped in double quotes is taken without them, from any source: that is
/// how a properties file (which trims values) keeps a space at either end.
class SettingReader {
 public:
  SettingReader(const Poco::Util::AbstractConfiguration& config, const std::vector<SettingSpec>& specs)
      : _config(config), _specs(specs) {}

  std::string text(std::string_view key, std::string_view fallback, std::size_t maxSize = 1024) const;
  std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  /// Seconds, decimals allowed ("0.5"), between min and max seconds; `fallback` when not given.
  Poco::Timespan seconds(std::string_view key, const Poco::Timespan& fallback, double min, double max) const;
  bool flag(std::string_view key, bool fallback) const;
  /// Whether `key` was given at all (any layer).
  bool given(std::string_view key) const { return rawValue(key).has_value(); }

  /// Throws SettingsError for `key`, for checks the typed readers cannot make.
  [[noreturn]] void reject(std::string_view key, std::string_view value, const std::string& expected) const;

  /// One of a few words, e.g. framing line|raw.
  template <typename T>
  T choice(std::string_view key, T fallback, std::initializer_list<std::pair<std::string_view, T>> words) const {
    const auto raw = rawValue(key);
    if (!raw) return fallback;
    std::string expected;
    for (const auto& [word, value] : words) {
      if (*raw == word) return value;
      expected += expected.empty() ? std::string(word) : "|" + std::string(word);
    }
    reject(key, *raw, "expected one of " + expected);
  }

 private:
  std::optional<std::string> rawValue(std::string_view key) const;

  const Poco::Util::AbstractConfiguration& _config;
  const std::vector<SettingSpec>& _specs;
};

/// The keys under `config` that no spec names, each with the closest known
/// key, as one warning line each ("unknown setting echo.maxThread in FILE;
/// did you mean echo.maxThreads?").
std::vector<std::string> unknownKeys(const Poco::Util::AbstractConfiguration& config, const std::string& source,
                                     const std::vector<SettingSpec>& specs);

/// The same for `ECHO_*` environment variables that no spec names, except `ignored` ones.
std::vector<std::string> unknownEnvironment(const std::vector<SettingSpec>& specs,
                                            const std::vector<std::string_view>& ignored);

}  // namespace echod
