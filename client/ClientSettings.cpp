#include "client/ClientSettings.h"

#include <algorithm>

#include "protocol/Alpn.h"
#include "protocol/UdpEcho.h"

namespace echod {
namespace {

/// The settings that only mean something to --bench.
constexpr std::string_view kBenchOnly[] = {"client.connections", "client.size",      "client.duration",
                                           "client.messages",    "client.pipeline",  "client.workload",
                                           "client.json",        "client.reconnect", "client.rate"};

/// "1.2.3.4:5" or "[2001:db8::1]:5".
std::optional<ProxyAddress> parseProxySource(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 >= text.size() || text.size() - colon - 1 > 5) return std::nullopt;
  const std::string portText = text.substr(colon + 1);
  if (!std::all_of(portText.begin(), portText.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  const int port = std::stoi(portText);
  if (port > 65535) return std::nullopt;
  std::string ip = text.substr(0, colon);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') {
    ip = ip.substr(1, ip.size() - 2);
    auto address = ProxyAddress::fromText(ip, static_cast<std::uint16_t>(port));
    return address && address->family == ProxyAddress::Family::Inet6 ? address : std::nullopt;
  }
  auto address = ProxyAddress::fromText(ip, static_cast<std::uint16_t>(port));
  return address && address->family == ProxyAddress::Family::Inet ? address : std::nullopt;
}

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
      {"client.tlsAlpn", "tls-alpn", "", "LIST", "--tls: offer these ALPN protocols (h2,http/1.1)", "none"},
      {"client.tlsServerName", "tls-server-name", "", "NAME",
       "--tls: the server name sent (SNI) and checked in its certificate; default: --host", "host"},
      {"client.tlsCertificate", "tls-certificate", "", "FILE",
       "--tls: present this PEM client certificate (chain, leaf first) when the server asks (mutual TLS)", "none"},
      {"client.tlsPrivateKey", "tls-private-key", "", "FILE",
       "--tls: the unencrypted PEM private key of --tls-certificate", "none"},
      {"client.proxyProtocol", "proxy-protocol", "", "v1|v2|off",
       "send a PROXY protocol header first (to echod's PROXY port, through nothing else)", "off"},
      {"client.proxySource", "proxy-source", "", "IP:PORT",
       "--proxy-protocol: the client address the header names; default: the socket's own", "socket"},
      {"client.whoCommand", "who-command", "", "TEXT", "the server's who command, for --who and --spread",
       d.whoCommand},
      {"client.spread", "spread", "", "N",
       "open N fresh connections, ask each who answered, print how they spread over replicas", "0"},
      {"client.by", "by", "", "replica|hostname|pod|version|label:KEY",
       "--spread: group the connections by this field of the who answer", d.spreadBy},
      {"client.expect", "expect", "", "VALUE:PCT[~TOL],...",
       "--spread: exit 1 unless each VALUE gets PCT% of the connections, within TOL points (default 5)", "none"},
      {"client.findIdleTimeout", "find-idle-timeout", "", "MAX",
       "find the idle timeout on the path to the server: connections silent for up to MAX seconds, at most "
       "12, at most 2 x MAX seconds in all",
       "0"},
      {"client.connections", "connections", "", "C", "--bench: connections, one thread each",
       defaultText(d.connections)},
      {"client.size", "size", "", "BYTES", "--bench: bytes per message, without the newline", defaultText(d.size)},
      {"client.duration", "duration", "", "SECONDS", "--bench: how long to run; 0 runs until --messages",
       defaultSeconds(d.duration) + " unless --messages"},
      {"client.messages", "messages", "", "M", "--bench: messages per connection; 0 runs for --duration",
       defaultText(d.messagesPerConnection)},
      {"client.pipeline", "pipeline", "", "P", "--bench: messages in flight per connection (raw framing: 1)",
       defaultText(d.pipeline)},
      {"client.rate", "rate", "", "R",
       "--bench: messages (connect workload: connections) a second in all, paced evenly over the connections; "
       "0: as fast as replies come",
       "0"},
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
  const std::string alpn = read.text("client.tlsAlpn", "none", 4096);
  std::string alpnError;
  if (alpn == "none") {
    s.tlsAlpn.clear();
  } else if (auto names = parseAlpnList(alpn, alpnError)) {
    s.tlsAlpn = std::move(*names);
  } else {
    read.reject("client.tlsAlpn", alpn, "protocol names separated by commas (" + alpnError + ")");
  }
  s.tlsServerName = read.text("client.tlsServerName", "", 255);
  s.tlsCertificate = read.text("client.tlsCertificate", "none", 4096);
  s.tlsPrivateKey = read.text("client.tlsPrivateKey", "none", 4096);
  if (s.tlsCertificate == "none") s.tlsCertificate.clear();
  if (s.tlsPrivateKey == "none") s.tlsPrivateKey.clear();
  if (s.tls) {
    if (!config.hasProperty("client.port")) s.port = kDefaultTlsPort;
    if (s.tlsInsecure && !s.tlsCa.empty()) {
      read.reject("client.tlsCa", s.tlsCa, "--tls-ca and --tls-insecure exclude each other");
    }
    if (s.tlsCertificate.empty() != s.tlsPrivateKey.empty()) {
      read.reject(s.tlsCertificate.empty() ? "client.tlsCertificate" : "client.tlsPrivateKey", "",
                  "--tls-certificate and --tls-private-key go together");
    }
  } else {
    if (!s.tlsCertificate.empty() || !s.tlsPrivateKey.empty()) {
      s.warnings.emplace_back("--tls-certificate and --tls-private-key are --tls options: ignored without --tls");
    }
    if (s.tlsInsecure) s.warnings.emplace_back("--tls-insecure is a --tls option: ignored without --tls");
    if (config.hasProperty("client.tlsCa"))
      s.warnings.emplace_back("--tls-ca is a --tls option: ignored without --tls");
    if (!s.tlsAlpn.empty()) s.warnings.emplace_back("--tls-alpn is a --tls option: ignored without --tls");
    if (!s.tlsServerName.empty()) s.warnings.emplace_back("--tls-server-name is a --tls option: ignored without --tls");
  }

  s.proxyProtocol =
      read.choice("client.proxyProtocol", s.proxyProtocol, {{"off", Proxy::Off}, {"v1", Proxy::V1}, {"v2", Proxy::V2}});
  const std::string source = read.text("client.proxySource", "socket", 64);
  if (source != "socket") {
    s.proxySource = parseProxySource(source);
    if (!s.proxySource) read.reject("client.proxySource", source, "IP:PORT, with an IPv6 address in brackets");
    if (s.proxyProtocol == Proxy::Off) {
      s.warnings.emplace_back("--proxy-source is a --proxy-protocol option: ignored without --proxy-protocol");
    }
  }
  s.whoCommand = read.text("client.whoCommand", s.whoCommand, 256);
  if (s.whoCommand.empty() || s.whoCommand.find_first_of("\r\n") != std::string::npos) {
    read.reject("client.whoCommand", s.whoCommand, "one line, not empty");
  }
  const bool who = read.flag("client.who", false);
  s.spread = static_cast<int>(read.integer("client.spread", 0, 0, 100000));
  readSpread(read, s);
  s.findIdleTimeout = read.seconds("client.findIdleTimeout", Poco::Timespan(0), 0, 3600).totalMicroseconds() / 1e6;
  if (s.findIdleTimeout > 0 && s.findIdleTimeout < 1) {
    read.reject("client.findIdleTimeout", std::to_string(s.findIdleTimeout), "at least 1 second (0: off)");
  }
  const bool check = read.flag("client.check", false);
  const bool bench = read.flag("client.bench", false);
  const int modes = int{check} + int{bench} + int{who} + int{s.spread > 0} + int{s.findIdleTimeout > 0};
  if (modes > 1) {
    read.reject("client.bench", "true", "--check, --bench, --who, --spread and --find-idle-timeout exclude each other");
  }
  if (!bench) {
    // Not silently ignored, and not read either: a bench option means nothing
    // to the other modes, so even a value --bench would refuse stops nothing.
    for (const auto key : kBenchOnly) {
      if (key == "client.json" && (s.spread > 0 || s.findIdleTimeout > 0)) continue;  // they print JSON too
      if (config.hasProperty(std::string(key))) {
        const std::string option = "--" + std::string(key.substr(key.find('.') + 1));
        s.warnings.push_back(option + " is a --bench option: ignored without --bench");
      }
    }
  }
  if (check) {
    s.mode = ClientMode::Check;
  } else if (who) {
    s.mode = ClientMode::Who;
  } else if (s.spread > 0) {
    s.mode = ClientMode::Spread;
    s.json = read.flag("client.json", false);
  } else if (s.findIdleTimeout > 0) {
    s.mode = ClientMode::FindIdleTimeout;
    s.json = read.flag("client.json", false);
  } else if (bench) {
    s.mode = ClientMode::Bench;
    readBench(read, s);
  } else if (config.hasProperty("client.send.count")) {
    s.mode = ClientMode::Scripted;
    const auto count = config.getInt("client.send.count");
    for (int i = 0; i < count; ++i) s.messages.push_back(config.getRawString("client.send." + std::to_string(i)));
  }
  s.udp = read.flag("client.udp", false);
  if (s.udp) readUdp(read, s);
  return s;
}

void ClientSettings::readSpread(const SettingReader& read, ClientSettings& s) {
  s.spreadBy = read.text("client.by", s.spreadBy, 128);
  const bool field = s.spreadBy == "replica" || s.spreadBy == "hostname" || s.spreadBy == "pod" ||
                     s.spreadBy == "version" || s.spreadBy.rfind("label:", 0) == 0;
  if (!field || s.spreadBy == "label:") {
    read.reject("client.by", s.spreadBy, "replica, hostname, pod, version or label:KEY");
  }
  const std::string expect = read.text("client.expect", "none", 4096);
  if (expect != "none") {
    std::string error;
    auto bands = parseExpect(expect, error);
    if (!bands) read.reject("client.expect", expect, "VALUE:PCT or VALUE:PCT~TOL, comma-separated (" + error + ")");
    s.expect = std::move(*bands);
  }
  if (s.spread == 0) {
    for (const char* key : {"client.by", "client.expect"}) {
      if (read.given(key))
        s.warnings.push_back("--" + std::string(key + 7) + " is a --spread option: ignored without --spread");
    }
  }
}

void ClientSettings::readUdp(const SettingReader& read, ClientSettings& s) {
  const char* why = nullptr;
  if (s.mode == ClientMode::Interactive || s.mode == ClientMode::Spread || s.mode == ClientMode::FindIdleTimeout) {
    why = "--send, --check, --who or --bench (datagrams have no session to type into)";
  } else if (s.tls) {
    why = "no --tls (UDP echo is plain datagrams)";
  } else if (s.proxyProtocol != Proxy::Off) {
    why = "no --proxy-protocol (the UDP port reads no header)";
  } else if (s.mode == ClientMode::Bench && (s.reconnect || s.connectStorm || s.pipeline != 1)) {
    why = "the pingpong workload with one datagram in flight (no --reconnect, --workload=connect or --pipeline)";
  } else if (s.mode == ClientMode::Bench && s.size > static_cast<int>(kUdpMaxPayload)) {
    why = "--size within one datagram (65507 bytes, the prefix included)";
  }
  if (why != nullptr) read.reject("client.udp", "true", why);
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
  s.rate = read.integer("client.rate", s.rate, 0, 10'000'000);
  s.connectStorm = read.choice("client.workload", s.connectStorm, {{"pingpong", false}, {"connect", true}});
  s.json = read.flag("client.json", s.json);
  s.reconnect = read.flag("client.reconnect", false);
  if (s.reconnect && s.connectStorm) {
    read.reject("client.reconnect", "true", "the pingpong workload (the connect workload reconnects anyway)");
  }
  if (s.reconnect && s.duration.totalMicroseconds() == 0) {
    read.reject("client.reconnect", "true",
                "a --duration: connections come and go, so a count per connection means nothing");
  }
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
