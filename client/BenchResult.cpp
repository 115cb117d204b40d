#include "client/BenchResult.h"

#include <Poco/Format.h>
#include <Poco/JSONString.h>

namespace echod {

std::string BenchResult::text() const {
  const auto us = [this](double p) { return static_cast<double>(latency.percentile(p)) / 1000.0; };
  std::string text = Poco::format(
      "connections %d  messages %Lu  errors %Lu  time %.2f s\n"
      "throughput  %.0f msg/s  %.2f MB/s\n"
      "latency us  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
      connections, static_cast<Poco::UInt64>(messages), static_cast<Poco::UInt64>(errors), seconds, messagesPerSecond(),
      megabytesPerSecond(), us(0.5), us(0.9), us(0.99), us(0.999), static_cast<double>(latency.max()) / 1000.0);
  if (handshakes > 0) {
    text += handshakesTimed
                ? Poco::format("tls         %Lu handshakes  %.0f handshakes/s\n", static_cast<Poco::UInt64>(handshakes),
                               handshakesPerSecond())
                : Poco::format("tls         %Lu handshakes before the run\n", static_cast<Poco::UInt64>(handshakes));
  }
  if (!firstError.empty()) text += "first error: " + firstError + "\n";
  return text;
}

std::string BenchResult::json() const {
  const auto us = [this](double p) { return static_cast<double>(latency.percentile(p)) / 1000.0; };
  return Poco::format(
      "{\"connections\":%d,\"messages\":%Lu,\"errors\":%Lu,\"seconds\":%.3f,\"messages_per_second\":%.1f,"
      "\"megabytes_per_second\":%.3f,\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
      "\"max\":%.1f},\"handshakes\":%Lu,\"handshakes_per_second\":%.1f,\"first_error\":%s}\n",
      connections, static_cast<Poco::UInt64>(messages), static_cast<Poco::UInt64>(errors), seconds, messagesPerSecond(),
      megabytesPerSecond(), us(0.5), us(0.9), us(0.99), us(0.999), static_cast<double>(latency.max()) / 1000.0,
      static_cast<Poco::UInt64>(handshakes), handshakesPerSecond(), Poco::toJSON(firstError));
}

}  // namespace echod
