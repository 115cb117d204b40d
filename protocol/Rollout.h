#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace echod {

// Rollouts and connection lifetime (docs/protocol.md "Rollouts and connection
// lifetime"), the parts with no I/O, for both roles: the server's labels and
// connection age, the client's expected shares and its idle-timeout search.

/// A replica's labels (echo.labels), in the order given: `key=value,...`.
using Labels = std::vector<std::pair<std::string, std::string>>;
inline constexpr std::size_t kMaxLabels = 16;

/// `key=value,...` (keys of [a-z0-9_.-], at most kMaxLabels, each once;
/// values without a comma); "" is none. Nullopt, with `error` set, otherwise.
std::optional<Labels> parseLabels(std::string_view text, std::string& error);

/// echo.maxConnectionAge: `S` or `S~J` seconds (decimals allowed): each
/// connection's age limit is drawn uniformly between S-J and S+J (never
/// below 0.1 s).
struct AgeLimit {
  std::int64_t minMs = 0;
  std::int64_t maxMs = 0;  ///< 0: no limit
  bool any() const noexcept { return maxMs > 0; }
  /// Nullopt, with `error` set, unless `text` is 0 (none), S or S~J with S > J >= 0.
  static std::optional<AgeLimit> parse(std::string_view text, std::string& error);
  /// One connection's limit in ms, from a uniform random 64-bit value.
  std::int64_t draw(std::uint64_t random) const noexcept;
  /// The setting as it reads: "30 s", "30 s ~ 5 s".
  std::string describe() const;
};

/// One band of `--expect=VALUE:PCT[~TOL],...`: the share of connections that
/// VALUE must get, in percent, within TOL points (default 5).
struct ShareBand {
  std::string value;
  double percent = 0;
  double tolerance = 5;
};
/// Nullopt, with `error` set, unless every band reads VALUE:PCT or VALUE:PCT~TOL.
std::optional<std::vector<ShareBand>> parseExpect(std::string_view text, std::string& error);

/// How one band held: the share observed against it.
struct BandCheck {
  ShareBand band;
  double share = 0;  ///< percent of all connections answered
  bool holds = false;
};
/// Each band against the counts (value -> connections) of `answered` connections.
std::vector<BandCheck> checkBands(const std::vector<ShareBand>& bands,
                                  const std::map<std::string, std::uint64_t>& counts, std::uint64_t answered);

/// --find-idle-timeout=MAX: which silences to try, in two rounds of
/// connections held at once, at most kProbes connections and 2 x MAX seconds
/// in all. The first round spreads its silences evenly up to MAX; the second
/// spreads the rest evenly between the longest silence that survived and the
/// shortest that did not. No I/O: the client runs the probes.
class IdleTimeoutSearch {
 public:
  static constexpr int kProbes = 12;
  static constexpr int kFirstRound = 6;

  explicit IdleTimeoutSearch(double maxSeconds) : _max(maxSeconds) {}

  /// The silences of the first round, in seconds, shortest first.
  std::vector<double> firstRound() const;
  /// The silences of the second round, between the longest silence that
  /// survived (0 when none did) and the shortest that died: empty when every
  /// probe survived (the timeout, if any, is above MAX).
  std::vector<double> secondRound(double survived, std::optional<double> died) const;

 private:
  double _max;
};

}  // namespace echod
