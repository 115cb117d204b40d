#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace echod {

/// The server's TCP listeners, as data: what each is called (in /metrics,
/// the console, `who` and the logs) and what runs first on a connection it
/// accepts, before the echo. Adding a listener is one entry here and one in
/// server/Listeners.cpp (its port setting, its socket, its start-up line).
enum class Listener : std::uint8_t { Plain, Tls, Proxy, ProxyTls };

/// One listener's kind: its name and its connections' opening.
struct ListenerKind {
  Listener id;
  const char* name;
  bool proxyHeader;  ///< a PROXY protocol header first (ProxyHeaderRead)
  bool tls;          ///< then a TLS handshake (TlsHandshake)
};

inline constexpr std::array<ListenerKind, 4> kListenerKinds{{
    {Listener::Plain, "plain", false, false},
    {Listener::Tls, "tls", false, true},
    {Listener::Proxy, "proxy", true, false},
    {Listener::ProxyTls, "proxy-tls", true, true},  // TLS passthrough behind a load balancer
}};
inline constexpr std::size_t kListeners = kListenerKinds.size();

/// The names alone, in Listener's order (labels of /metrics series).
inline constexpr std::array<const char*, kListeners> kListenerNames = [] {
  std::array<const char*, kListeners> names{};
  for (std::size_t i = 0; i < kListeners; ++i) names[i] = kListenerKinds[i].name;
  return names;
}();

inline constexpr std::size_t indexOf(Listener listener) { return static_cast<std::size_t>(listener); }
inline constexpr const ListenerKind& kindOf(Listener listener) { return kListenerKinds[indexOf(listener)]; }
inline constexpr const char* listenerName(Listener listener) { return kindOf(listener).name; }

static_assert(
    [] {
      for (std::size_t i = 0; i < kListeners; ++i) {
        if (indexOf(kListenerKinds[i].id) != i) return false;
      }
      return true;
    }(),
    "kListenerKinds is in the order of Listener");

}  // namespace echod
