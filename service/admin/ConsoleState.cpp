#include "service/admin/ConsoleState.h"

#include <Poco/JSONString.h>

#include "service/admin/ConsoleRelay.h"
#include "service/core/CoarseClock.h"

namespace echod {
namespace {

constexpr std::size_t kConnectionsShown = 100;

/// "192.168.4.7:51000" → "192.168.*.*"; IPv6: its first two groups.
std::string masked(const std::string& peer) {
  if (peer.empty() || peer.front() == '(') return peer;
  if (peer.front() == '[') {
    const auto second = peer.find(':', peer.find(':') + 1);
    return peer.substr(1, second == std::string::npos ? 0 : second - 1) + ":…";
  }
  const auto second = peer.find('.', peer.find('.') + 1);
  return second == std::string::npos ? "*" : peer.substr(0, second) + ".*.*";
}

}  // namespace

std::string consoleState(const EchoServer& echo, const Poco::Net::SocketAddress& client) {
  const AdminSettings& admin = echo.settings();
  const bool full = client.host().isLoopback() || admin.consoleShowAddresses;
  const auto shown = [full](const std::string& peer) { return full ? peer : masked(peer); };
  const EchoServer::Gauges g = echo.gauges();
  std::size_t total = 0;
  const auto views = echo.registry().snapshot(kConnectionsShown, total);
  const std::int64_t now = CoarseClock::nowMs();
  std::string out;
  out.reserve(4096 + views.size() * 160);
  out += "{\"echo\":" + Poco::toJSON(consoleEchoTarget(echo).toString()) +
         ",\"pool\":{\"busy\":" + std::to_string(g.busyThreads) + ",\"started\":" + std::to_string(g.poolThreads) +
         ",\"max\":" + std::to_string(g.maxThreads) + ",\"queued\":" + std::to_string(g.queued) + "}";
  out += ",\"draining\":" + std::string(g.draining ? "true" : "false");
  out += ",\"masked\":" + std::string(full ? "false" : "true");
  out += ",\"open\":" + std::to_string(total) + ",\"connections\":[";
  for (std::size_t i = 0; i < views.size(); ++i) {
    const auto& v = views[i];
    if (i > 0) out += ',';
    out += "{\"peer\":" + Poco::toJSON(shown(v.peer)) +
           ",\"proxy\":" + (v.proxy.empty() ? std::string("null") : Poco::toJSON(shown(v.proxy))) + ",\"listener\":\"" +
           listenerName(v.listener) + "\",\"ageMs\":" + std::to_string(v.ageMs) +
           ",\"messages\":" + std::to_string(v.messages) + ",\"bytesIn\":" + std::to_string(v.bytesIn) +
           ",\"bytesOut\":" + std::to_string(v.bytesOut) + ",\"state\":\"" + v.state +
           "\",\"faults\":" + (v.faults ? "true" : "false") + "}";
  }
  out += "],\"events\":[";
  const auto events = echo.events().list();
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (i > 0) out += ',';
    out += "{\"agoMs\":" + std::to_string(now - e.atMs) + ",\"peer\":" + Poco::toJSON(shown(e.peer)) +
           ",\"listener\":\"" + listenerName(e.listener) + "\",\"event\":\"" + (e.opened ? "opened" : "closed") +
           "\",\"reason\":" + Poco::toJSON(e.reason) + "}";
  }
  out += "]}";
  return out;
}

}  // namespace echod
