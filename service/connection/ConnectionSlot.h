#pragma once

#include <Poco/Net/StreamSocket.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace echod {

/// One admitted connection's entry in the ConnectionRegistry: what the
/// acceptor, its worker, the housekeeper and the console share about it.
/// Its address is stable while it is registered. The atomics are written by
/// the worker without a lock (one relaxed store each, per read); `running`
/// and the admission-order links belong to the registry's mutex.
struct ConnectionSlot {
  /// Why a connection's blocked read was woken: the worker picks its reply by it.
  enum class Wake : std::uint8_t { None, IdleTimeout, IdleUnderLoad, Drain, HandshakeTimeout };

  /// Which listening socket a connection came through.
  enum class Listener : std::uint8_t { Plain, Tls };
  static constexpr std::size_t kListeners = 2;
  static constexpr std::array<const char*, kListeners> kListenerNames{"plain", "tls"};  ///< in /metrics and the console
  static const char* listenerName(Listener listener) { return kListenerNames[static_cast<std::size_t>(listener)]; }

  ConnectionSlot(const Poco::Net::StreamSocket& s, std::string a, std::int64_t now)
      : socket(s),
        address(std::move(a)),
        listener(s.secure() ? Listener::Tls : Listener::Plain),
        admittedMs(now),
        lastMessageMs(now) {}
  Poco::Net::StreamSocket socket;
  std::string address;  ///< peer host, only with a per-address limit
  const Listener listener;
  const std::int64_t admittedMs;            ///< CoarseClock
  std::atomic<std::int64_t> lastMessageMs;  ///< CoarseClock at its last complete message
  /// While a TLS handshake runs: the CoarseClock time by which it must end; 0 otherwise.
  std::atomic<std::int64_t> handshakeDeadlineMs{0};
  // For the console's live view: stored (not added) by the connection's worker after each read.
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytesIn{0};
  std::atomic<std::uint64_t> bytesOut{0};
  std::atomic<Wake> wake{Wake::None};
  bool running = false;             ///< a worker serves it (guarded by the registry's mutex)
  ConnectionSlot* older = nullptr;  ///< admission order, for the console (guarded by the registry's mutex)
  ConnectionSlot* newer = nullptr;
};

}  // namespace echod
