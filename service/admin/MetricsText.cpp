#include "service/admin/MetricsText.h"

#include <Poco/Timestamp.h>

#include <array>
#include <sstream>

#include "service/admin/ProcessFigures.h"

namespace echod {
namespace {

void counter(std::ostringstream& out, const char* name, const char* help, std::uint64_t value) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n" << name << ' ' << value << '\n';
}

void counter(std::ostringstream& out, const char* name, const char* help, double value) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n" << name << ' ' << value << '\n';
}

void gauge(std::ostringstream& out, const char* name, const char* help, double value) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n" << name << ' ' << value << '\n';
}

/// A family with one series per label value, e.g. listener="tls".
template <typename Values>
void series(std::ostringstream& out, const char* name, const char* type, const char* help, const char* label,
            const char* const* labelValues, const Values& values) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  for (std::size_t i = 0; i < values.size(); ++i) {
    out << name << '{' << label << "=\"" << labelValues[i] << "\"} " << static_cast<std::uint64_t>(values[i]) << '\n';
  }
}

/// A counter with one series per error reason, e.g. reason="server_busy".
void byReason(std::ostringstream& out, const char* name, const char* help,
              const std::array<Counter, ServerMetrics::kReasons>& counts, std::initializer_list<ErrorReason> reasons) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n";
  for (const ErrorReason reason : reasons) {
    std::string label(reasonText(reason));
    for (char& c : label) c = c == ' ' ? '_' : c;
    out << name << "{reason=\"" << label << "\"} " << counts[ServerMetrics::slot(reason)].load() << '\n';
  }
}

}  // namespace

std::string metricsText(const EchoServer& echo) {
  const ServerMetrics& m = echo.metrics();
  const EchoServer::Gauges g = echo.gauges();
  std::ostringstream out;
  out.precision(15);  // byte counts in full, not 1.57e+08
  gauge(out, "echod_connections_open", "Connections admitted and not yet closed.",
        static_cast<double>(g.openConnections));
  counter(out, "echod_connections_total", "Connections served since start.", m.connectionsOpened.load());
  const auto& listeners = kListenerNames;
  series(out, "echod_listener_connections_open", "gauge", "Connections admitted and not yet closed, by listener.",
         "listener", listeners.data(), g.openByListener);
  series(out, "echod_listener_connections_total", "counter", "Connections served since start, by listener.", "listener",
         listeners.data(), m.connectionsByListener);
  series(out, "echod_tls_handshakes_total", "counter",
         "TLS handshakes, by result: ok, timeout (stalled past echo.tlsHandshakeTimeout), not_tls (plain text on "
         "the TLS port), closed (by the client), no_application_protocol (no ALPN name in common), "
         "no_client_certificate and client_certificate_* (a client certificate refused: unknown_ca, expired, "
         "not_yet_valid, bad_signature, invalid), failed.",
         "result", ServerMetrics::kHandshakeNames.data(), m.tlsHandshakes);
  if (const auto* certificates = echo.certificates()) {
    static constexpr std::array<const char*, 2> kReloadResults{"loaded", "failed"};
    series(out, "echod_tls_certificate_reloads_total", "counter",
           "The TLS certificate files read again after they changed, by result: loaded (new handshakes use them), "
           "failed (the set in use stays).",
           "result", kReloadResults.data(),
           std::array<std::uint64_t, 2>{certificates->loaded(), certificates->failed()});
  }
  series(out, "echod_faults_total", "counter",
         "Faults on demand, by kind: delay and chunk (replies held or written in pieces), reset, close and hang "
         "(connections that got the fault in place of a reply).",
         "kind", ServerMetrics::kFaultNames.data(), m.faults);
  counter(out, "echod_udp_echoed_total", "UDP datagrams answered with an echo.", m.udpEchoed.load());
  counter(out, "echod_udp_who_total", "UDP datagrams answered with the who JSON.", m.udpWho.load());
  series(out, "echod_udp_dropped_total", "counter",
         "UDP datagrams dropped, by reason: low_port (a source port below 1024), rate (over "
         "echo.udpRatePerAddress), too_large (the echo would not fit in a datagram), send_failed.",
         "reason", ServerMetrics::kUdpDropNames.data(), m.udpDropped);
  out << "# HELP echod_proxy_headers_total PROXY protocol headers on the PROXY listener, by version (1, 2, none: "
         "not a header) and result: proxied, local (LOCAL or UNKNOWN), bad, timeout (incomplete at "
         "echo.proxyHeaderTimeout), closed (before a complete header), not_allowed (outside echo.proxyFrom).\n"
      << "# TYPE echod_proxy_headers_total counter\n";
  for (std::size_t v = 0; v < ServerMetrics::kProxyVersions; ++v) {
    for (std::size_t r = 0; r < ServerMetrics::kProxyResults; ++r) {
      out << "echod_proxy_headers_total{version=\"" << ServerMetrics::kProxyVersionNames[v] << "\",result=\""
          << ServerMetrics::kProxyResultNames[r] << "\"} " << m.proxyHeaders[v][r].load() << '\n';
    }
  }
  byReason(out, "echod_connections_refused_total", "Connections refused at admission, by reply.", m.refused,
           {ErrorReason::ServerBusy, ErrorReason::TooManyConnections, ErrorReason::ShuttingDown,
            ErrorReason::ProxyNotAllowed});
  counter(out, "echod_messages_total", "Messages answered with an echo.", m.messages.load());
  counter(out, "echod_received_bytes_total", "Bytes received from clients.", m.bytesReceived.load());
  counter(out, "echod_sent_bytes_total", "Bytes sent to clients.", m.bytesSent.load());
  byReason(out, "echod_errors_total", "ERR replies sent on open connections, by reason.", m.errors,
           {ErrorReason::LineTooLong, ErrorReason::IdleTimeout, ErrorReason::ShuttingDown, ErrorReason::BadProxyHeader,
            ErrorReason::TooManyConnections});
  series(out, "echod_connections_recycled_total", "counter",
         "Connections the server ended with FIN on purpose, by reason: max_age (echo.maxConnectionAge), "
         "max_messages (echo.maxMessagesPerConnection).",
         "reason", ServerMetrics::kRecycleNames.data(), m.recycled);
  counter(out, "echod_idle_timeouts_total", "Connections woken for completing no message within the idle timeout.",
          m.idleWoken.load());
  counter(out, "echod_idle_evictions_under_load_total",
          "Idle connections closed to make room for connections waiting for a thread.", m.evictedUnderLoad.load());
  counter(out, "echod_queue_timeouts_total", "Queued connections answered ERR server busy at the queue timeout.",
          m.queueTimeouts.load());
  counter(out, "echod_thread_start_failures_total",
          "Queued connections answered ERR server busy because the system refused a thread.",
          m.threadStartFailures.load());
  gauge(out, "echod_worker_threads_busy", "Worker threads serving a connection now.",
        static_cast<double>(g.busyThreads));
  gauge(out, "echod_worker_threads_max", "Size of the worker pool (maxThreads).", g.maxThreads);
  gauge(out, "echod_worker_threads_started", "Worker threads the pool has started.", g.poolThreads);
  out << "# HELP echod_worker_pool_info The limit that decided the worker pool's size.\n"
      << "# TYPE echod_worker_pool_info gauge\n"
      << "echod_worker_pool_info{decided_by=\"" << echo.poolSize().decidedBy << "\",threads=\"" << g.maxThreads
      << "\"} 1\n";
  gauge(out, "echod_queued_connections", "Connections waiting for a worker thread.", static_cast<double>(g.queued));
  gauge(out, "echod_draining", "1 while the server is shutting down.", g.draining ? 1 : 0);
  const ProcessFigures p = processFigures();
  gauge(out, "echod_uptime_seconds", "Seconds since the process started.",
        static_cast<double>(Poco::Timestamp().epochMicroseconds()) / 1e6 - p.startTimeSeconds);
  counter(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", p.cpuSeconds);
  gauge(out, "process_open_fds", "Number of open file descriptors.", p.openFds);
  gauge(out, "process_max_fds", "Maximum number of open file descriptors.", p.maxFds);
  gauge(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
        p.startTimeSeconds);
  gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", p.virtualBytes);
  gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.", p.residentBytes);
  gauge(out, "process_threads", "Number of OS threads in the process.", p.threads);
  return out.str();
}

}  // namespace echod
