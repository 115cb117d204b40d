#include "service/server/AdminSettings.h"

namespace echod {

std::vector<SettingSpec> AdminSettings::specs() {
  const AdminSettings d;
  return {
      {"echo.adminPort", "admin-port", "ECHO_ADMIN_PORT", "N",
       "HTTP port of /healthz and /metrics, on the same host; 0 turns it off", defaultText(d.adminPort)},
      {"echo.adminControl", "admin-control", "ECHO_ADMIN_CONTROL", "on|off",
       "POST /readyz/disable and /readyz/enable on the admin port flip readiness (403 when off)",
       d.adminControl ? "on" : "off"},
      {"echo.console", "console", "ECHO_CONSOLE", "on|off",
       "the web console at / on the admin port: a browser client and a live view of the threads",
       d.console ? "on" : "off"},
      {"echo.consoleSessions", "console-sessions", "ECHO_CONSOLE_SESSIONS", "N",
       "console sessions at once; each is an echo connection and holds an admin thread",
       defaultText(d.consoleSessions)},
      {"echo.consoleShowAddresses", "console-show-addresses", "ECHO_CONSOLE_SHOW_ADDRESSES", "on|off",
       "show client addresses in full to browsers not on loopback too", d.consoleShowAddresses ? "on" : "off"},
  };
}

void AdminSettings::read(const SettingReader& read) {
  adminPort = static_cast<std::uint16_t>(read.integer("echo.adminPort", adminPort, 0, 65535));
  adminControl = read.choice("echo.adminControl", adminControl, {{"on", true}, {"off", false}});
  console = read.choice("echo.console", console, {{"on", true}, {"off", false}});
  consoleSessions = static_cast<int>(read.integer("echo.consoleSessions", consoleSessions, 1, 256));
  consoleShowAddresses = read.choice("echo.consoleShowAddresses", consoleShowAddresses, {{"on", true}, {"off", false}});
}

}  // namespace echod
