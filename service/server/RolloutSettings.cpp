#include "service/server/RolloutSettings.h"

#include <cstdlib>

namespace echod {
namespace {

constexpr std::int64_t kMaxKeepaliveSeconds = 32767;  ///< the kernel's MAX_TCP_KEEPIDLE and MAX_TCP_KEEPINTVL
constexpr std::int64_t kMaxKeepaliveProbes = 127;     ///< MAX_TCP_KEEPCNT

/// `IDLE,INTERVAL,COUNT`: three whole numbers in their kernel ranges.
std::optional<TcpKeepalive> parseKeepalive(const std::string& text) {
  std::int64_t numbers[3];
  std::size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const std::size_t comma = text.find(',', start);
    if ((i < 2) != (comma != std::string::npos)) return std::nullopt;
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (part.empty() || part.size() > 6 || part.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    numbers[i] = std::strtoll(part.c_str(), nullptr, 10);
    start = comma + 1;
  }
  if (numbers[0] < 1 || numbers[0] > kMaxKeepaliveSeconds || numbers[1] < 1 || numbers[1] > kMaxKeepaliveSeconds ||
      numbers[2] < 1 || numbers[2] > kMaxKeepaliveProbes) {
    return std::nullopt;
  }
  return TcpKeepalive{static_cast<int>(numbers[0]), static_cast<int>(numbers[1]), static_cast<int>(numbers[2])};
}

}  // namespace

std::vector<SettingSpec> RolloutSettings::specs() {
  const RolloutSettings d;
  return {
      {"echo.labels", "labels", "ECHO_LABELS", "KEY=VALUE,...",
       "this replica's labels, shown by the who command and {label:KEY}, e.g. track=canary,zone=b (at most 16)",
       "none"},
      {"echo.serviceVersion", "service-version", "ECHO_SERVICE_VERSION", "TEXT",
       "the version the who command reports, e.g. an image tag", d.serviceVersion},
      {"echo.maxConnectionAge", "max-connection-age", "ECHO_MAX_CONNECTION_AGE", "S|S~J",
       "end a connection with FIN once it is this many seconds old, drawn within S-J..S+J; 0 never", "0"},
      {"echo.maxMessagesPerConnection", "max-messages-per-connection", "ECHO_MAX_MESSAGES_PER_CONNECTION", "N",
       "end a connection with FIN after answering this many messages; 0 never",
       defaultText(static_cast<std::int64_t>(d.maxMessagesPerConnection))},
      {"echo.tcpKeepalive", "tcp-keepalive", "ECHO_TCP_KEEPALIVE", "IDLE,INTERVAL,COUNT|off",
       "TCP keepalive on every connection: probe after IDLE s of silence, every INTERVAL s, COUNT times", "off"},
      {"echo.tcpUserTimeout", "tcp-user-timeout", "ECHO_TCP_USER_TIMEOUT", "MS",
       "TCP_USER_TIMEOUT: drop a connection whose sent data stays unacknowledged this long; 0 the kernel's",
       defaultText(d.tcpUserTimeoutMs)},
  };
}

void RolloutSettings::read(const SettingReader& read) {
  const std::string labelText = read.text("echo.labels", "none", 8192);
  std::string error;
  if (labelText == "none") {
    labels.clear();
  } else if (auto parsed = parseLabels(labelText, error)) {
    labels = std::move(*parsed);
  } else {
    read.reject("echo.labels", labelText, "key=value,... (" + error + ")");
  }
  serviceVersion = read.text("echo.serviceVersion", serviceVersion, 128);
  const std::string age = read.text("echo.maxConnectionAge", "0", 64);
  if (auto parsed = AgeLimit::parse(age, error)) {
    maxConnectionAge = *parsed;
  } else {
    read.reject("echo.maxConnectionAge", age, error);
  }
  maxMessagesPerConnection =
      static_cast<std::uint64_t>(read.integer("echo.maxMessagesPerConnection", 0, 0, 1'000'000'000'000));
  const std::string keepalive = read.text("echo.tcpKeepalive", "off", 64);
  if (keepalive != "off") {
    tcpKeepalive = parseKeepalive(keepalive);
    if (!tcpKeepalive) {
      read.reject("echo.tcpKeepalive", keepalive,
                  "off, or IDLE,INTERVAL,COUNT: seconds 1-32767, seconds 1-32767, probes 1-127 (e.g. 60,10,6)");
    }
  }
  tcpUserTimeoutMs = static_cast<int>(read.integer("echo.tcpUserTimeout", tcpUserTimeoutMs, 0, 2'000'000'000));
}

std::string RolloutSettings::describeRollout() const {
  std::string line = "version " + serviceVersion + ", labels ";
  if (labels.empty()) line += "none";
  for (std::size_t i = 0; i < labels.size(); ++i)
    line += (i == 0 ? "" : ",") + labels[i].first + "=" + labels[i].second;
  const auto add = [&line](const std::string& part) { line += "; " + part; };
  if (maxConnectionAge.any()) add("connections end at an age of " + maxConnectionAge.describe());
  if (maxMessagesPerConnection > 0) add("after " + std::to_string(maxMessagesPerConnection) + " messages");
  if (tcpKeepalive) {
    add("TCP keepalive after " + std::to_string(tcpKeepalive->idle) + " s, every " +
        std::to_string(tcpKeepalive->interval) + " s, " + std::to_string(tcpKeepalive->count) + " probes");
  }
  if (tcpUserTimeoutMs > 0) add("TCP user timeout " + std::to_string(tcpUserTimeoutMs) + " ms");
  return line;
}

}  // namespace echod
