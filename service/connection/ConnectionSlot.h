#pragma once

#include <Poco/Net/StreamSocket.h>

#include "service/core/Listener.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace echod {

/// What a connection's worker stamps after each read: kept in the worker's
/// own EchoConnection (on its stack, which the worker touches anyway), so a
/// message writes no line of the registry's, and no line another worker
/// writes. The housekeeper (idle timeouts) and the console read it through
/// the slot, under the registry's lock.
struct ConnectionStamps {
  explicit ConnectionStamps(std::int64_t since) : lastMessageMs(since) {}
  std::atomic<std::int64_t> lastMessageMs;  ///< CoarseClock at its last complete message (or its admission)
  // For the console's live view: stored (not added), one writer.
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytesIn{0};
  std::atomic<std::uint64_t> bytesOut{0};
};

/// One admitted connection's entry in the ConnectionRegistry: what the
/// acceptor, its worker, the housekeeper and the console share about it.
/// Its address is stable while it is registered. Its atomics are written by
/// its worker without a lock, once or a few times per connection (per read:
/// only its stamps, which live with the worker); `running`, the
/// admission-order links and the addresses belong to the registry's mutex.
struct ConnectionSlot {
  /// Why a connection's blocked read was woken: the worker picks its reply by
  /// it. OpeningTimeout: its opening (a PROXY header, a TLS handshake) passed
  /// its deadline (openingDeadlineMs). MaxAge: it reached ageDeadlineMs.
  enum class Wake : std::uint8_t { None, IdleTimeout, IdleUnderLoad, Drain, OpeningTimeout, MaxAge };

  /// Which listening socket a connection came through (service/core/Listener.h).
  using Listener = echod::Listener;

  ConnectionSlot(const Poco::Net::StreamSocket& s, std::string a, Listener l, std::int64_t now)
      : socket(s), address(std::move(a)), admittedMs(now), listener(l) {}

  Poco::Net::StreamSocket socket;
  /// The client's host, only with a per-address limit: the socket's peer, or
  /// on the PROXY listener the header's source once it is read (registry's mutex).
  std::string address;
  /// PROXY listener: the header's source as "ip:port", once read; empty
  /// otherwise (registry's mutex: the console reads it).
  std::string proxiedClient;
  const std::int64_t admittedMs;  ///< CoarseClock
  /// Its worker's stamps, from the moment a worker serves it; null while it
  /// is queued (its idle time then runs from admittedMs).
  std::atomic<const ConnectionStamps*> stamps{nullptr};
  /// While the connection's opening runs (its PROXY header read, its TLS
  /// handshake): the CoarseClock time by which that step must end; 0 otherwise.
  std::atomic<std::int64_t> openingDeadlineMs{0};
  /// echo.maxConnectionAge: the CoarseClock time at which the connection
  /// ends with FIN (drawn when a worker takes it); 0: no limit.
  std::atomic<std::int64_t> ageDeadlineMs{0};
  const Listener listener;
  std::atomic<Wake> wake{Wake::None};
  /// Faults on demand: drawn for them (set once, before the connection is served).
  std::atomic<bool> faults{false};
  /// A delayed reply is being held (its worker waits: the thread is busy with it).
  std::atomic<bool> delaying{false};
  bool running = false;             ///< a worker serves it (registry's mutex)
  ConnectionSlot* older = nullptr;  ///< admission order, for the console (registry's mutex)
  ConnectionSlot* newer = nullptr;
};

}  // namespace echod
