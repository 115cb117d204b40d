#include "client/BenchResult.h"

#include <Poco/Format.h>
#include <Poco/JSONString.h>

#include <algorithm>

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
  if (disruption) {
    const auto& d = *disruption;
    text += Poco::format(
        "disruption  broken: %Lu FIN, %Lu ERR, %Lu reset, %Lu closed, %Lu timeout; ",
        static_cast<Poco::UInt64>(d.broken[Disruption::Fin]), static_cast<Poco::UInt64>(d.broken[Disruption::Err]),
        static_cast<Poco::UInt64>(d.broken[Disruption::Reset]), static_cast<Poco::UInt64>(d.broken[Disruption::Closed]),
        static_cast<Poco::UInt64>(d.broken[Disruption::Timeout]));
    text += Poco::format("%Lu reconnects, %Lu refused connects, longest without a connection %.1f ms\n",
                         static_cast<Poco::UInt64>(d.reconnects), static_cast<Poco::UInt64>(d.refused),
                         d.longestWithoutConnectionMs);
  }
  if (udp) {
    text +=
        Poco::format("udp         %Lu sent, %Lu answered, %Lu lost (%.2f %%), %Lu late\n",
                     static_cast<Poco::UInt64>(udp->sent), static_cast<Poco::UInt64>(messages),
                     static_cast<Poco::UInt64>(udp->lost), udp->lossPercent(), static_cast<Poco::UInt64>(udp->late));
  }
  if (!firstError.empty()) text += "first error: " + firstError + "\n";
  return text;
}

void BenchDisruption::merge(const BenchDisruption& other) {
  for (std::size_t i = 0; i < broken.size(); ++i) broken[i] += other.broken[i];
  reconnects += other.reconnects;
  refused += other.refused;
  longestWithoutConnectionMs = std::max(longestWithoutConnectionMs, other.longestWithoutConnectionMs);
}

std::string BenchResult::json() const {
  const auto us = [this](double p) { return static_cast<double>(latency.percentile(p)) / 1000.0; };
  std::string disrupted;
  if (disruption) {
    const auto& d = *disruption;
    disrupted = ",\"broken\":{";
    for (std::size_t i = 0; i < d.broken.size(); ++i) {
      disrupted +=
          (i > 0 ? ",\"" : "\"") + std::string(Disruption::kReasonNames[i]) + "\":" + std::to_string(d.broken[i]);
    }
    disrupted += Poco::format("},\"reconnects\":%Lu,\"refused\":%Lu,\"longest_without_connection_ms\":%.3f",
                              static_cast<Poco::UInt64>(d.reconnects), static_cast<Poco::UInt64>(d.refused),
                              d.longestWithoutConnectionMs);
  }
  if (udp) {
    disrupted += Poco::format(",\"udp\":{\"sent\":%Lu,\"lost\":%Lu,\"late\":%Lu,\"loss_percent\":%.3f}",
                              static_cast<Poco::UInt64>(udp->sent), static_cast<Poco::UInt64>(udp->lost),
                              static_cast<Poco::UInt64>(udp->late), udp->lossPercent());
  }
  return Poco::format(
      "{\"connections\":%d,\"messages\":%Lu,\"errors\":%Lu,\"seconds\":%.3f,\"messages_per_second\":%.1f,"
      "\"megabytes_per_second\":%.3f,\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
      "\"max\":%.1f},\"handshakes\":%Lu,\"handshakes_per_second\":%.1f,\"first_error\":%s%s}\n",
      connections, static_cast<Poco::UInt64>(messages), static_cast<Poco::UInt64>(errors), seconds, messagesPerSecond(),
      megabytesPerSecond(), us(0.5), us(0.9), us(0.99), us(0.999), static_cast<double>(latency.max()) / 1000.0,
      static_cast<Poco::UInt64>(handshakes), handshakesPerSecond(), Poco::toJSON(firstError), disrupted);
}

}  // namespace echod
