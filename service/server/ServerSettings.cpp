#include "service/server/ServerSettings.h"

#include <arpa/inet.h>

#include <algorithm>
#include <stdexcept>

#include "service/connection/ProxySources.h"

namespace echod {
namespace {

/// Faults on demand: echo.replyDelay, echo.replyChunk(Interval), echo.fault(After|Share).
void readFaults(const SettingReader& read, FaultOptions& f) {
  constexpr std::int64_t kLongestDelayMs = 3'600'000;
  const std::string delay = read.text("echo.replyDelay", "0", 32);
  const auto range = parseDelayRange(delay, kLongestDelayMs);
  if (!range) read.reject("echo.replyDelay", delay, "milliseconds, MS or MIN-MAX (MIN <= MAX <= 3600000)");
  f.delayMinMs = range->first;
  f.delayMaxMs = range->second;
  f.chunk = static_cast<std::size_t>(read.integer("echo.replyChunk", static_cast<std::int64_t>(f.chunk), 0, 16 << 20));
  f.chunkIntervalMs = read.integer("echo.replyChunkInterval", f.chunkIntervalMs, 0, 60'000);
  f.fault = read.choice(
      "echo.fault", f.fault,
      {{"none", FaultKind::None}, {"reset", FaultKind::Reset}, {"close", FaultKind::Close}, {"hang", FaultKind::Hang}});
  f.faultAfter = static_cast<std::uint64_t>(
      read.integer("echo.faultAfter", static_cast<std::int64_t>(f.faultAfter), 0, std::int64_t{1} << 40));
  f.sharePercent = static_cast<int>(read.integer("echo.faultShare", f.sharePercent, 0, 100));
}

}  // namespace

const std::vector<SettingSpec>& ServerSettings::specs() {
  // Each default is rendered from the struct, so --help cannot drift from it.
  // ECHO_HOST, ECHO_PORT, ECHO_FRAMING and ECHO_PREFIX are echo-client's names
  // too, on purpose: here they say where to listen and how to answer, there
  // where to connect and what to expect, so the image's health check
  // (`echo-client --check` in this container) checks the server as configured.
  static const ServerSettings d;
  static const std::vector<SettingSpec> table{
      {"echo.host", "host", "ECHO_HOST", "ADDR", "address to listen on; :: for IPv6", d.host},
      {"echo.port", "port", "ECHO_PORT", "N", "TCP port; 0 picks a free one, logged", defaultText(d.port)},
      {"echo.framing", "framing", "ECHO_FRAMING", "line|raw", "message framing", framingName(d.session.framing)},
      {"echo.prefix", "prefix", "ECHO_PREFIX", "TEXT", "text before each echoed message",
       defaultWord(d.session.prefix)},
      {"echo.maxLineLength", "max-line-length", "ECHO_MAX_LINE_LENGTH", "BYTES", "longest line accepted",
       defaultText(static_cast<std::int64_t>(d.session.maxLineLength))},
      {"echo.idleTimeout", "idle-timeout", "ECHO_IDLE_TIMEOUT", "SECONDS",
       "close a connection that completes no message this long; 0 never", defaultSeconds(d.idleTimeout)},
      {"echo.idleTimeoutUnderLoad", "idle-timeout-under-load", "ECHO_IDLE_TIMEOUT_UNDER_LOAD", "SECONDS",
       "while connections wait for a thread, close the longest idle this long; 0 off",
       defaultSeconds(d.idleTimeoutUnderLoad)},
      {"echo.queueTimeout", "queue-timeout", "ECHO_QUEUE_TIMEOUT", "SECONDS",
       "longest wait for a thread before 'ERR server busy'; 0 no deadline", defaultSeconds(d.queueTimeout)},
      {"echo.maxThreads", "max-threads", "ECHO_MAX_THREADS", "N",
       "worker threads, one per open connection; 0 sizes from the machine's limits", defaultText(d.maxThreads)},
      {"echo.minThreads", "min-threads", "ECHO_MIN_THREADS", "N",
       "worker threads started up front and kept; 0 is min(" + std::to_string(kDefaultMinThreads) + ", max-threads)",
       defaultText(d.minThreads)},
      {"echo.maxQueued", "max-queued", "ECHO_MAX_QUEUED", "N",
       "connections waiting for a thread before 'ERR server busy'", defaultText(d.maxQueued)},
      {"echo.drainTimeout", "drain-timeout", "ECHO_DRAIN_TIMEOUT", "SECONDS",
       "time open connections get to finish at shutdown", defaultSeconds(d.drainTimeout)},
      {"echo.shutdownDelay", "shutdown-delay", "ECHO_SHUTDOWN_DELAY", "SECONDS",
       "after SIGTERM keep serving this long with /readyz at 503 (load balancers take it out), then drain; "
       "a second signal drains at once",
       defaultSeconds(d.shutdownDelay)},
      {"echo.maxConnectionsPerAddress", "max-connections-per-address", "ECHO_MAX_CONNECTIONS_PER_ADDRESS", "N",
       "open connections one client address may hold; 0 no limit", defaultText(d.maxConnectionsPerAddress)},
      {"echo.threadStackSize", "thread-stack-size", "ECHO_THREAD_STACK_SIZE", "BYTES",
       "stack size of each worker thread", defaultText(d.threadStackSize)},
      {"echo.workerScheduling", "worker-scheduling", "ECHO_WORKER_SCHEDULING", "batch|normal",
       "kernel scheduling of worker threads: batch does not preempt on wake-up",
       d.workerScheduling == WorkerScheduling::Batch ? "batch" : "normal"},
      {"echo.logLevel", "log-level", "ECHO_LOG_LEVEL", "LEVEL",
       "fatal|critical|error|warning|notice|information|debug|trace", d.logLevel},
      {"echo.logFormat", "log-format", "ECHO_LOG_FORMAT", "text|json", "text, or one JSON object per line",
       d.jsonLogs ? "json" : "text"},
      {"echo.adminPort", "admin-port", "ECHO_ADMIN_PORT", "N",
       "HTTP port of /healthz and /metrics, on the same host; 0 turns it off", defaultText(d.adminPort)},
      {"echo.tlsPort", "tls-port", "ECHO_TLS_PORT", "N|off",
       "TLS port beside the plain one (4568 is usual); 0 picks a free one", "off"},
      {"echo.tlsCertificate", "tls-certificate", "ECHO_TLS_CERTIFICATE", "FILE",
       "PEM certificate chain of the TLS listener, leaf first", "none"},
      {"echo.tlsPrivateKey", "tls-private-key", "ECHO_TLS_PRIVATE_KEY", "FILE",
       "PEM private key of that certificate, unencrypted", "none"},
      {"echo.tlsMinVersion", "tls-min-version", "ECHO_TLS_MIN_VERSION", "1.2|1.3", "oldest TLS version accepted",
       d.tlsMinVersion == tls::MinVersion::Tls13 ? "1.3" : "1.2"},
      {"echo.tlsHandshakeTimeout", "tls-handshake-timeout", "ECHO_TLS_HANDSHAKE_TIMEOUT", "SECONDS",
       "close a TLS client that has not finished its handshake this long after a worker took it",
       defaultSeconds(d.tlsHandshakeTimeout)},
      {"echo.proxyPort", "proxy-port", "ECHO_PROXY_PORT", "N|off",
       "PROXY protocol port: every connection starts with a v1 or v2 header from a load balancer; 0 picks a free one",
       "off"},
      {"echo.proxyHeaderTimeout", "proxy-header-timeout", "ECHO_PROXY_HEADER_TIMEOUT", "SECONDS",
       "close a PROXY-port connection whose header is not complete this long after a worker took it",
       defaultSeconds(d.proxyHeaderTimeout)},
      {"echo.proxyFrom", "proxy-from", "ECHO_PROXY_FROM", "any|CIDR,...",
       "peers allowed on the PROXY port, e.g. 10.0.0.0/8,fd00::/8; others get 'ERR proxy not allowed'", d.proxyFrom},
      {"echo.whoCommand", "who-command", "ECHO_WHO_COMMAND", "TEXT|off",
       "a message equal to this gets one line of JSON: which replica, listener and addresses (who is usual)", "off"},
      {"echo.banner", "banner", "ECHO_BANNER", "TEXT|off",
       "a line sent first on every connection (server speaks first); {hostname} {pod} {client} {listener}", "off"},
      {"echo.udpPort", "udp-port", "ECHO_UDP_PORT", "N|off",
       "UDP echo port (the TCP port's number is usual); 0 picks a free one", "off"},
      {"echo.udpThreads", "udp-threads", "ECHO_UDP_THREADS", "N",
       "UDP receiving threads, each on its own SO_REUSEPORT socket", defaultText(d.udpThreads)},
      {"echo.udpRatePerAddress", "udp-rate-per-address", "ECHO_UDP_RATE_PER_ADDRESS", "N",
       "UDP replies a second to one source address; 0 no limit", defaultText(d.udpRatePerAddress)},
      {"echo.replyDelay", "reply-delay", "ECHO_REPLY_DELAY", "MS|MIN-MAX",
       "fault: no reply leaves earlier than this many ms after its message (a range: uniform per reply)", "0"},
      {"echo.replyChunk", "reply-chunk", "ECHO_REPLY_CHUNK", "BYTES",
       "fault: write each reply at most this many bytes at a time; 0 whole replies",
       defaultText(static_cast<std::int64_t>(d.faults.chunk))},
      {"echo.replyChunkInterval", "reply-chunk-interval", "ECHO_REPLY_CHUNK_INTERVAL", "MS",
       "fault: the pause between two chunks of a reply", defaultText(d.faults.chunkIntervalMs)},
      {"echo.fault", "fault", "ECHO_FAULT", "none|reset|close|hang",
       "fault: instead of a reply, reset the connection, close it with no word, or never answer again",
       faultName(d.faults.fault)},
      {"echo.faultAfter", "fault-after", "ECHO_FAULT_AFTER", "N",
       "fault: replies sent before the message that gets the fault",
       defaultText(static_cast<std::int64_t>(d.faults.faultAfter))},
      {"echo.faultShare", "fault-share", "ECHO_FAULT_SHARE", "PERCENT",
       "fault: the share of connections, drawn as each is admitted, that get the delay, chunks and fault",
       defaultText(d.faults.sharePercent)},
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
  return table;
}

ServerSettings ServerSettings::fromConfig(const Poco::Util::AbstractConfiguration& config) {
  const SettingReader read(config, specs());
  // Kubernetes injects ECHO_PORT=tcp://10.0.0.1:4567 (and ECHO_TLS_PORT...)
  // into every pod beside a Service named echo: say so, not just "bad port".
  for (const char* key : {"echo.port", "echo.adminPort", "echo.tlsPort", "echo.proxyPort", "echo.udpPort"}) {
    const std::string value = config.getString(key, "");
    if (value.rfind("tcp://", 0) == 0 || value.rfind("udp://", 0) == 0) {
      read.reject(key, value,
                  "a port number; this looks like a Kubernetes service link (a Service named echo injects "
                  "ECHO_PORT=tcp://IP:PORT): set enableServiceLinks: false in the pod spec");
    }
  }
  ServerSettings s;
  s.host = read.text("echo.host", s.host, 255);
  // inet_pton, not IPAddress::tryParse: POCO 1.11 rejects "::".
  unsigned char parsed[sizeof(in6_addr)];
  if (::inet_pton(AF_INET, s.host.c_str(), parsed) != 1 && ::inet_pton(AF_INET6, s.host.c_str(), parsed) != 1) {
    read.reject("echo.host", s.host, "expected an IPv4 or IPv6 address such as 0.0.0.0 or ::");
  }
  s.port = static_cast<std::uint16_t>(read.integer("echo.port", s.port, 0, 65535));
  s.session.framing = read.choice("echo.framing", s.session.framing, {{"line", Framing::Line}, {"raw", Framing::Raw}});
  s.session.prefix = read.text("echo.prefix", s.session.prefix, 1024);
  s.session.maxLineLength = static_cast<std::size_t>(
      read.integer("echo.maxLineLength", static_cast<std::int64_t>(s.session.maxLineLength), 1, 16 << 20));
  s.idleTimeout = read.seconds("echo.idleTimeout", s.idleTimeout, 0, 86400);
  s.idleTimeoutUnderLoad = read.seconds("echo.idleTimeoutUnderLoad", s.idleTimeoutUnderLoad, 0, 86400);
  s.queueTimeout = read.seconds("echo.queueTimeout", s.queueTimeout, 0, 3600);
  s.maxThreads = static_cast<int>(read.integer("echo.maxThreads", s.maxThreads, 0, 100000));
  s.minThreads = static_cast<int>(read.integer("echo.minThreads", s.minThreads, 0, 100000));
  if (s.maxThreads > 0 && s.minThreads > s.maxThreads) {
    read.reject("echo.minThreads", std::to_string(s.minThreads),
                "at most echo.maxThreads (" + std::to_string(s.maxThreads) + ")");
  }
  s.maxQueued = static_cast<int>(read.integer("echo.maxQueued", s.maxQueued, 0, 100000));
  s.drainTimeout = read.seconds("echo.drainTimeout", s.drainTimeout, 0, 3600);
  s.shutdownDelay = read.seconds("echo.shutdownDelay", s.shutdownDelay, 0, 3600);
  s.maxConnectionsPerAddress =
      static_cast<int>(read.integer("echo.maxConnectionsPerAddress", s.maxConnectionsPerAddress, 0, 100000));
  s.threadStackSize = static_cast<int>(read.integer("echo.threadStackSize", s.threadStackSize, 64 * 1024, 64 << 20));
  s.workerScheduling = read.choice("echo.workerScheduling", s.workerScheduling,
                                   {{"batch", WorkerScheduling::Batch}, {"normal", WorkerScheduling::Normal}});
  s.logLevel = read.choice<std::string>("echo.logLevel", s.logLevel,
                                        {{"fatal", "fatal"},
                                         {"critical", "critical"},
                                         {"error", "error"},
                                         {"warning", "warning"},
                                         {"notice", "notice"},
                                         {"information", "information"},
                                         {"debug", "debug"},
                                         {"trace", "trace"}});
  s.jsonLogs = read.choice("echo.logFormat", s.jsonLogs, {{"text", false}, {"json", true}});
  s.adminPort = static_cast<std::uint16_t>(read.integer("echo.adminPort", s.adminPort, 0, 65535));
  if (s.adminPort != 0 && s.adminPort == s.port) {
    read.reject("echo.adminPort", std::to_string(s.adminPort), "a port other than echo.port");
  }
  const std::string tlsPort = read.text("echo.tlsPort", "off", 16);
  if (tlsPort != "off") s.tlsPort = static_cast<int>(read.integer("echo.tlsPort", 0, 0, 65535));
  // "none" (the default) names no file.
  s.tlsCertificate = read.text("echo.tlsCertificate", "none", 4096);
  s.tlsPrivateKey = read.text("echo.tlsPrivateKey", "none", 4096);
  if (s.tlsCertificate == "none") s.tlsCertificate.clear();
  if (s.tlsPrivateKey == "none") s.tlsPrivateKey.clear();
  s.tlsMinVersion = read.choice("echo.tlsMinVersion", s.tlsMinVersion,
                                {{"1.2", tls::MinVersion::Tls12}, {"1.3", tls::MinVersion::Tls13}});
  s.tlsHandshakeTimeout = read.seconds("echo.tlsHandshakeTimeout", s.tlsHandshakeTimeout, 0.1, 3600);
  if (s.tlsEnabled()) {
    if (s.tlsPort != 0 && (s.tlsPort == s.port || s.tlsPort == s.adminPort)) {
      read.reject("echo.tlsPort", tlsPort, "a port other than echo.port and echo.adminPort");
    }
    if (s.tlsCertificate.empty()) read.reject("echo.tlsCertificate", "", "a PEM file, required with echo.tlsPort");
    if (s.tlsPrivateKey.empty()) read.reject("echo.tlsPrivateKey", "", "a PEM file, required with echo.tlsPort");
  }
  const std::string proxyPort = read.text("echo.proxyPort", "off", 16);
  if (proxyPort != "off") s.proxyPort = static_cast<int>(read.integer("echo.proxyPort", 0, 0, 65535));
  if (s.proxyPort > 0 && (s.proxyPort == s.port || s.proxyPort == s.adminPort || s.proxyPort == s.tlsPort)) {
    read.reject("echo.proxyPort", proxyPort, "a port other than echo.port, echo.adminPort and echo.tlsPort");
  }
  s.proxyHeaderTimeout = read.seconds("echo.proxyHeaderTimeout", s.proxyHeaderTimeout, 0.1, 3600);
  s.proxyFrom = read.text("echo.proxyFrom", s.proxyFrom, 4096);
  try {
    ProxySources::parse(s.proxyFrom);
  } catch (const std::invalid_argument& e) {
    read.reject("echo.proxyFrom", s.proxyFrom, std::string("'any' or comma-separated CIDRs: ") + e.what());
  }
  const std::string udpPort = read.text("echo.udpPort", "off", 16);
  if (udpPort != "off") s.udpPort = static_cast<int>(read.integer("echo.udpPort", 0, 0, 65535));
  s.udpThreads = static_cast<int>(read.integer("echo.udpThreads", s.udpThreads, 1, 64));
  s.udpRatePerAddress = read.integer("echo.udpRatePerAddress", s.udpRatePerAddress, 0, 10'000'000);
  const std::string who = read.text("echo.whoCommand", "off", 256);
  if (who != "off") {
    if (who.empty() || who == "exit" || who.find_first_of("\r\n") != std::string::npos) {
      read.reject("echo.whoCommand", who, "a word other than exit, on one line (who is usual), or off");
    }
    s.session.whoCommand = who;
  }
  const std::string banner = read.text("echo.banner", "off", 1024);
  if (banner != "off") {
    if (banner.find_first_of("\r\n") != std::string::npos) read.reject("echo.banner", banner, "one line, or off");
    s.banner = banner;
  }
  readFaults(read, s.faults);
  s.adminControl = read.choice("echo.adminControl", s.adminControl, {{"on", true}, {"off", false}});
  s.console = read.choice("echo.console", s.console, {{"on", true}, {"off", false}});
  s.consoleSessions = static_cast<int>(read.integer("echo.consoleSessions", s.consoleSessions, 1, 256));
  s.consoleShowAddresses =
      read.choice("echo.consoleShowAddresses", s.consoleShowAddresses, {{"on", true}, {"off", false}});
  return s;
}

ServerSettings ServerSettings::withPool(int poolThreads) const {
  ServerSettings s = *this;
  if (s.maxThreads == 0) s.maxThreads = std::max(1, poolThreads);
  if (s.minThreads == 0) s.minThreads = std::min(kDefaultMinThreads, s.maxThreads);
  if (s.minThreads > s.maxThreads) {
    throw SettingsError("invalid value '" + std::to_string(s.minThreads) +
                        "' for echo.minThreads (--min-threads, ECHO_MIN_THREADS): at most the worker pool's " +
                        std::to_string(s.maxThreads) + " threads sized from this machine's limits");
  }
  return s;
}

}  // namespace echod
