#include "client/ClientSettings.h"

namespace echod {

const std::vector<SettingSpec>& ClientSettings::specs() {
  static const std::vector<SettingSpec> table{
      {"client.host", "host", "ECHO_HOST", "HOST", "server to connect to (default 127.0.0.1)"},
      {"client.port", "port", "ECHO_PORT", "N", "server port (default 4567)"},
      {"client.framing", "framing", "ECHO_FRAMING", "line|raw",
       "line, or raw for the classroom protocol (default line)"},
      {"client.prefix", "prefix", "ECHO_PREFIX", "TEXT",
       "the server's echo prefix, checked by --check and --bench (default 'echo : ')"},
      {"client.timeout", "timeout", "ECHO_TIMEOUT", "SECONDS",
       "connect timeout and longest wait for a reply (default 2)"},
      {"client.connections", "connections", "", "C", "--bench: connections, one thread each (default 1)"},
      {"client.size", "size", "", "BYTES", "--bench: bytes per message, without the newline (default 16)"},
      {"client.duration", "duration", "", "SECONDS", "--bench: how long to run (default 5 unless --messages)"},
      {"client.messages", "messages", "", "M", "--bench: messages per connection (default: run for --duration)"},
      {"client.pipeline", "pipeline", "", "P", "--bench: messages in flight per connection (default 1)"},
      {"client.workload", "workload", "", "pingpong|connect",
       "--bench: round trips on open connections, or connect-echo-close (default pingpong)"},
  };
  return table;
}

ClientSettings ClientSettings::fromConfig(const Poco::Util::AbstractConfiguration& config) {
  const SettingReader read(config, specs());
  ClientSettings s;
  s.host = read.text("client.host", s.host, 255);
  s.port = static_cast<std::uint16_t>(read.integer("client.port", s.port, 1, 65535));
  s.framing = read.choice("client.framing", s.framing, {{"line", Framing::Line}, {"raw", Framing::Raw}});
  s.prefix = read.text("client.prefix", s.prefix, 1024);
  s.timeout = read.seconds("client.timeout", 2, 0.001, 3600);
  s.connections = static_cast<int>(read.integer("client.connections", s.connections, 1, 20000));
  s.size = static_cast<int>(read.integer("client.size", s.size, 1, 16 << 20));
  s.messagesPerConnection = read.integer("client.messages", 0, 0, std::int64_t{1} << 40);
  s.duration = read.seconds("client.duration", s.messagesPerConnection > 0 ? 0 : 5, 0, 86400);
  if (s.duration.totalMicroseconds() == 0 && s.messagesPerConnection == 0) {
    read.reject("client.duration", "0", "give --duration or --messages");
  }
  s.pipeline = static_cast<int>(read.integer("client.pipeline", s.pipeline, 1, 4096));
  s.connectStorm = read.choice("client.workload", false, {{"pingpong", false}, {"connect", true}});
  s.json = read.flag("client.json", false);
  const bool check = read.flag("client.check", false);
  const bool bench = read.flag("client.bench", false);
  if (check && bench) read.reject("client.bench", "true", "--check and --bench exclude each other");
  if (check) {
    s.mode = ClientMode::Check;
  } else if (bench) {
    s.mode = ClientMode::Bench;
  } else if (config.hasProperty("client.send.count")) {
    s.mode = ClientMode::Scripted;
    const auto count = config.getInt("client.send.count");
    for (int i = 0; i < count; ++i) s.messages.push_back(config.getRawString("client.send." + std::to_string(i)));
  }
  return s;
}

}  // namespace echod
