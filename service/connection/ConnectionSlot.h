#pragma once

#include <Poco/Net/StreamSocket.h>

#include "service/core/Listener.h"

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
/// and the admission-order links belong to the registry's mutex. Aligned to
/// a cache line, and laid out so that its first line holds only what its
/// worker writes (per read, per reply) and what nobody writes after
/// admission (192 bytes in all): two workers never write one line (the
/// registry's nodes lie side by side), and no other thread writes the
/// worker's line.
struct alignas(64) ConnectionSlot {
  /// Why a connection's blocked read was woken: the worker picks its reply by
  /// it. OpeningTimeout: its opening (a PROXY header, a TLS handshake) passed
  /// its deadline (openingDeadlineMs).
  enum class Wake : std::uint8_t { None, IdleTimeout, IdleUnderLoad, Drain, OpeningTimeout };

  /// Which listening socket a connection came through (service/core/Listener.h).
  using Listener = echod::Listener;

  ConnectionSlot(const Poco::Net::StreamSocket& s, std::string a, Listener l, std::int64_t now)
      : lastMessageMs(now), admittedMs(now), socket(s), listener(l), address(std::move(a)) {}

  // The worker's line. Stored by the connection's worker after each read:
  std::atomic<std::int64_t> lastMessageMs;  ///< CoarseClock at its last complete message
  // for the console's live view, stored (not added):
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytesIn{0};
  std::atomic<std::uint64_t> bytesOut{0};
  /// While the connection's opening runs (its PROXY header read, its TLS
  /// handshake): the CoarseClock time by which that step must end; 0 otherwise.
  std::atomic<std::int64_t> openingDeadlineMs{0};
  /// Faults on demand: drawn for them (set once, before the connection is served).
  std::atomic<bool> faults{false};
  /// A delayed reply is being held (its worker waits: the thread is busy with it).
  std::atomic<bool> delaying{false};
  // Written at admission only:
  const std::int64_t admittedMs;  ///< CoarseClock
  Poco::Net::StreamSocket socket;
  const Listener listener;
  // Written once or twice in a connection's life (a wake; taken by a worker):
  std::atomic<Wake> wake{Wake::None};
  bool running = false;  ///< a worker serves it (guarded by the registry's mutex)

  // The registry's, under its mutex (admission, the console, a PROXY header's client):
  ConnectionSlot* older = nullptr;  ///< admission order, for the console
  ConnectionSlot* newer = nullptr;
  /// The client's host, only with a per-address limit: the socket's peer, or
  /// on the PROXY listener the header's source once it is read.
  std::string address;
  /// PROXY listener: the header's source as "ip:port", once read; empty otherwise (the console reads it).
  std::string proxiedClient;
};

}  // namespace echod
