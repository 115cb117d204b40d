#include "service/server/CoreSettings.h"

#include <Poco/Format.h>

#include <arpa/inet.h>

namespace echod {
namespace {

double seconds(const Poco::Timespan& t) { return static_cast<double>(t.totalMilliseconds()) / 1000.0; }

}  // namespace

std::vector<SettingSpec> CoreSettings::specs() {
  // Each default is rendered from the struct, so --help cannot drift from it.
  // ECHO_HOST, ECHO_PORT, ECHO_FRAMING and ECHO_PREFIX are echo-client's names
  // too, on purpose: here they say where to listen and how to answer, there
  // where to connect and what to expect, so the image's health check
  // (`echo-client --check` in this container) checks the server as configured.
  const CoreSettings d;
  return {
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
      {"echo.whoCommand", "who-command", "ECHO_WHO_COMMAND", "TEXT|off",
       "a message equal to this gets one line of JSON: which replica, listener and addresses (who is usual)", "off"},
      {"echo.banner", "banner", "ECHO_BANNER", "TEXT|off",
       "a line sent first on every connection (server speaks first); {hostname} {pod} {client} {listener}", "off"},
  };
}

void CoreSettings::read(const SettingReader& read) {
  host = read.text("echo.host", host, 255);
  // inet_pton, not IPAddress::tryParse: POCO 1.11 rejects "::".
  unsigned char parsed[sizeof(in6_addr)];
  if (::inet_pton(AF_INET, host.c_str(), parsed) != 1 && ::inet_pton(AF_INET6, host.c_str(), parsed) != 1) {
    read.reject("echo.host", host, "expected an IPv4 or IPv6 address such as 0.0.0.0 or ::");
  }
  port = static_cast<std::uint16_t>(read.integer("echo.port", port, 0, 65535));
  session.framing = read.choice("echo.framing", session.framing, {{"line", Framing::Line}, {"raw", Framing::Raw}});
  session.prefix = read.text("echo.prefix", session.prefix, 1024);
  session.maxLineLength = static_cast<std::size_t>(
      read.integer("echo.maxLineLength", static_cast<std::int64_t>(session.maxLineLength), 1, 16 << 20));
  idleTimeout = read.seconds("echo.idleTimeout", idleTimeout, 0, 86400);
  idleTimeoutUnderLoad = read.seconds("echo.idleTimeoutUnderLoad", idleTimeoutUnderLoad, 0, 86400);
  queueTimeout = read.seconds("echo.queueTimeout", queueTimeout, 0, 3600);
  maxThreads = static_cast<int>(read.integer("echo.maxThreads", maxThreads, 0, 100000));
  minThreads = static_cast<int>(read.integer("echo.minThreads", minThreads, 0, 100000));
  if (maxThreads > 0 && minThreads > maxThreads) {
    read.reject("echo.minThreads", std::to_string(minThreads),
                "at most echo.maxThreads (" + std::to_string(maxThreads) + ")");
  }
  maxQueued = static_cast<int>(read.integer("echo.maxQueued", maxQueued, 0, 100000));
  drainTimeout = read.seconds("echo.drainTimeout", drainTimeout, 0, 3600);
  shutdownDelay = read.seconds("echo.shutdownDelay", shutdownDelay, 0, 3600);
  maxConnectionsPerAddress =
      static_cast<int>(read.integer("echo.maxConnectionsPerAddress", maxConnectionsPerAddress, 0, 100000));
  threadStackSize = static_cast<int>(read.integer("echo.threadStackSize", threadStackSize, 64 * 1024, 64 << 20));
  workerScheduling = read.choice("echo.workerScheduling", workerScheduling,
                                 {{"batch", WorkerScheduling::Batch}, {"normal", WorkerScheduling::Normal}});
  logLevel = read.choice<std::string>("echo.logLevel", logLevel,
                                      {{"fatal", "fatal"},
                                       {"critical", "critical"},
                                       {"error", "error"},
                                       {"warning", "warning"},
                                       {"notice", "notice"},
                                       {"information", "information"},
                                       {"debug", "debug"},
                                       {"trace", "trace"}});
  jsonLogs = read.choice("echo.logFormat", jsonLogs, {{"text", false}, {"json", true}});
  const std::string who = read.text("echo.whoCommand", "off", 256);
  if (who != "off") {
    if (who.empty() || who == "exit" || who.find_first_of("\r\n") != std::string::npos) {
      read.reject("echo.whoCommand", who, "a word other than exit, on one line (who is usual), or off");
    }
    session.whoCommand = who;
  }
  const std::string line = read.text("echo.banner", "off", 1024);
  if (line != "off") {
    if (line.find_first_of("\r\n") != std::string::npos) read.reject("echo.banner", line, "one line, or off");
    banner = line;
  }
}

std::string CoreSettings::describe() const {
  return Poco::format(
      "framing %s, prefix '%s', max line %z B, idle timeout %.3f s (%.3f s under load), %d threads + %d queued "
      "(queue timeout %.3f s), shutdown delay %.3f s, drain %.3f s, per-address limit %d, stack %d B, %d threads "
      "started up front",
      std::string(framingName(session.framing)), session.prefix, session.maxLineLength, seconds(idleTimeout),
      seconds(idleTimeoutUnderLoad), maxThreads, maxQueued, seconds(queueTimeout), seconds(shutdownDelay),
      seconds(drainTimeout), maxConnectionsPerAddress, threadStackSize, minThreads);
}

std::string CoreSettings::describeWho() const {
  if (session.whoCommand.empty() && banner.empty()) return {};
  return "who command: " + (session.whoCommand.empty() ? std::string("off") : "'" + session.whoCommand + "'") +
         "; banner: " + (banner.empty() ? std::string("off") : "'" + banner + "'");
}

}  // namespace echod
