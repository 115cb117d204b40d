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
  enum class Listener : std::uint8_t { Plain, Tls, Proxy };
  static constexpr std::size_t kListeners = 3;
  /// In /metrics, the console and `who`.
  static constexpr std::array<const char*, kListeners> kListenerNames{"plain", "tls", "proxy"};
  static const char* listenerName(Listener listener) { return kListenerNames[static_cast<std::size_t>(listener)]; }

  ConnectionSlot(const Poco::Net::StreamSocket& s, std::string a, Listener l, std::int64_t now)
      : socket(s), address(std::move(a)), listener(l), admittedMs(now), lastMessageMs(now) {}
  Poco::Net::StreamSocket socket;
  /// The client's host, only with a per-address limit: the socket's peer, or
  /// on the PROXY listener the header's source once it is read (guarded by the registry's mutex).
  std::string address;
  /// PROXY listener: the header's source as "ip:port", once read; empty
  /// otherwise (guarded by the registry's mutex: the console reads it).
  std::string proxiedClient;
  const Listener listener;
  const std::int64_t admittedMs;            ///< CoarseClock
  std::atomic<std::int64_t> lastMessageMs;  ///< CoarseClock at its last complete message
  /// While a TLS handshake or a PROXY header read runs: the CoarseClock time by which it must end; 0 otherwise.
  std::atomic<std::int64_t> handshakeDeadlineMs{0};
  // For the console's live view: stored (not added) by the connection's worker after each read.
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytesIn{0};
  std::atomic<std::uint64_t> bytesOut{0};
  std::atomic<Wake> wake{Wake::None};
  /// Faults on demand: drawn for them (set once, before the connection is served).
  std::atomic<bool> faults{false};
  /// A delayed reply is being held (its worker waits: the thread is busy with it).
  std::atomic<bool> delaying{false};
  bool running = false;             ///< a worker serves it (guarded by the registry's mutex)
  ConnectionSlot* older = nullptr;  ///< admission order, for the console (guarded by the registry's mutex)
  ConnectionSlot* newer = nullptr;
};

}  // namespace echod
