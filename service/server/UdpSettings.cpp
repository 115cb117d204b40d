#include "service/server/UdpSettings.h"

namespace echod {

std::vector<SettingSpec> UdpSettings::specs() {
  const UdpSettings d;
  return {
      {"echo.udpPort", "udp-port", "ECHO_UDP_PORT", "N|off",
       "UDP echo port (the TCP port's number is usual); 0 picks a free one", "off"},
      {"echo.udpThreads", "udp-threads", "ECHO_UDP_THREADS", "N",
       "UDP receiving threads, each on its own SO_REUSEPORT socket", defaultText(d.udpThreads)},
      {"echo.udpRatePerAddress", "udp-rate-per-address", "ECHO_UDP_RATE_PER_ADDRESS", "N",
       "UDP replies a second to one source address; 0 no limit", defaultText(d.udpRatePerAddress)},
  };
}

void UdpSettings::read(const SettingReader& read) {
  if (read.text("echo.udpPort", "off", 16) != "off")
    udpPort = static_cast<int>(read.integer("echo.udpPort", 0, 0, 65535));
  udpThreads = static_cast<int>(read.integer("echo.udpThreads", udpThreads, 1, 64));
  udpRatePerAddress = read.integer("echo.udpRatePerAddress", udpRatePerAddress, 0, 10'000'000);
}

std::string UdpSettings::startLine(const std::string& address) const {
  return "UDP echo on " + address + " (" + std::to_string(udpThreads) + " thread(s), " +
         (udpRatePerAddress == 0 ? std::string("no rate limit")
                                 : "at most " + std::to_string(udpRatePerAddress) + " replies a second per address") +
         ")";
}

}  // namespace echod
