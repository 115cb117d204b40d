#include "client/ClientSettings.h"

#include <algorithm>

namespace echod {
namespace {

/// The settings that only mean something to --bench.
constexpr std::string_view kBenchOnly[] = {"client.connections", "client.size",     "client.duration",
                                           "client.messages",    "client.pipeline", "client.workload",
                                           "client.json"};

}  // namespace

const std::vector<SettingSpec>& ClientSettings::specs() {
  // Each default is rendered from the struct, so --help cannot drift from it.
  // ECHO_HOST, ECHO_PORT, ECHO_FRAMING and ECHO_PREFIX are the server's names
  // too, on purpose: there they say where to listen and how to answer, here
  // where to connect and what to expect, so the image's health check
  // (`echo-client --check` inside the server's container) needs no settings.
  static const ClientSettings d;
  static const std::vector<SettingSpec> table{
      {"client.host", "host", "ECHO_HOST", "HOST", "server to connect to", d.host},
      {"client.port", "port", "ECHO_PORT", "N", "server port", defaultText(d.port)},
      {"client.framing", "framing", "ECHO_FRAMING", "line|raw", "line, or raw for the classroom protocol",
       framingName(d.framing)},
      {"client.prefix", "prefix", "ECHO_PREFIX", "TEXT", "the server's echo prefix, checked by --check and --bench",
       defaultWord(d.prefix)},
      {"client.timeout", "timeout", "ECHO_TIMEOUT", "SECONDS", "connect timeout and longest wait for a reply",
       defaultSeconds(d.timeout)},
      {"client.tlsCa", "tls-ca", "ECHO_TLS_CA", "FILE",
       "--tls: trust the CA certificates in this PEM file (or directory); system: the system's", "system"},
      {"client.connections", "connections", "", "C", "--bench: connections, one thread each",
       defaultText(d.connections)},
      {"client.size", "size", "", "BYTES", "--bench: bytes per message, without the newline", defaultText(d.size)},
      {"client.duration", "duration", "", "SECONDS", "--bench: how long to run; 0 runs until --messages",
       defaultSeconds(d.duration) + " unless --messages"},
      {"client.messages", "messages", "", "M", "--bench: messages per connection; 0 runs for --duration",
       defaultText(d.messagesPerConnection)},
      {"client.pipeline", "pipeline", "", "P", "--bench: messages in flight per connection (raw framing: 1)",
       defaultText(d.pipeline)},
      {"client.workload", "workload", "", "pingpong|connect",
       "--bench: round trips on open connections, or connect-echo-close", d.connectStorm ? "connect" : "pingpong"},
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
  s.timeout = read.seconds("client.timeout", s.timeout, 0.001, 3600);
  s.tls = read.flag("client.tls", false);
  s.tlsInsecure = read.flag("client.tls-insecure", false);
  s.tlsCa = read.text("client.tlsCa", "system", 4096);
  if (s.tlsCa == "system") s.tlsCa.clear();
  if (s.tls) {
    if (!config.hasProperty("client.port")) s.port = kDefaultTlsPort;
    if (s.tlsInsecure && !s.tlsCa.empty()) {
      read.reject("client.tlsCa", s.tlsCa, "--tls-ca and --tls-insecure exclude each other");
    }
  } else {
    if (s.tlsInsecure) s.warnings.emplace_back("--tls-insecure is a --tls option: ignored without --tls");
    if (config.hasProperty("client.tlsCa"))
      s.warnings.emplace_back("--tls-ca is a --tls option: ignored without --tls");
  }

  const bool check = read.flag("client.check", false);
  const bool bench = read.flag("client.bench", false);
  if (check && bench) read.reject("client.bench", "true", "--check and --bench exclude each other");
  if (!bench) {
    // Not silently ignored, and not read either: a bench option means nothing
    // to the other modes, so even a value --bench would refuse stops nothing.
    for (const auto key : kBenchOnly) {
      if (config.hasProperty(std::string(key))) {
        const std::string option = "--" + std::string(key.substr(key.find('.') + 1));
        s.warnings.push_back(option + " is a --bench option: ignored without --bench");
      }
    }
  }
  if (check) {
    s.mode = ClientMode::Check;
  } else if (bench) {
    s.mode = ClientMode::Bench;
    readBench(read, s);
  } else if (config.hasProperty("client.send.count")) {
    s.mode = ClientMode::Scripted;
    const auto count = config.getInt("client.send.count");
    for (int i = 0; i < count; ++i) s.messages.push_back(config.getRawString("client.send." + std::to_string(i)));
  }
  return s;
}

void ClientSettings::readBench(const SettingReader& read, ClientSettings& s) {
  s.connections = static_cast<int>(read.integer("client.connections", s.connections, 1, 20000));
  s.size = static_cast<int>(read.integer("client.size", s.size, 1, 16 << 20));
  s.messagesPerConnection = read.integer("client.messages", s.messagesPerConnection, 0, std::int64_t{1} << 40);
  // --messages alone runs until the count; --duration alone, or neither, runs for the time.
  s.duration = read.seconds("client.duration", s.messagesPerConnection > 0 ? Poco::Timespan(0) : s.duration, 0, 86400);
  if (s.duration.totalMicroseconds() == 0 && s.messagesPerConnection == 0) {
    read.reject("client.duration", "0", "give --duration or --messages");
  }
  s.pipeline = static_cast<int>(read.integer("client.pipeline", s.pipeline, 1, 4096));
  s.connectStorm = read.choice("client.workload", s.connectStorm, {{"pingpong", false}, {"connect", true}});
  s.json = read.flag("client.json", s.json);
  if (s.framing == Framing::Raw) {
    // Raw framing has no delimiter: a message is one read, so one in flight, and at most one read long.
    if (s.pipeline != 1) read.reject("client.pipeline", std::to_string(s.pipeline), "1 with --framing=raw");
    if (s.size > static_cast<int>(EchoSession::kRawMessageSize)) {
      read.reject("client.size", std::to_string(s.size),
                  "at most " + std::to_string(EchoSession::kRawMessageSize) + " with --framing=raw");
    }
  }
}

}  // namespace echod
