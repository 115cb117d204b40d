#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/EchoSession.h"
#include "protocol/FaultPlan.h"
#include "protocol/ProxyHeader.h"
#include "service/connection/ConnectionContext.h"

struct ssl_st;

namespace echod {

/// One client connection on a worker thread (EchoWorker): reads, feeds the EchoSession,
/// writes what it returns, and stamps each complete message in the registry:
/// serve() is the loop, end() the one way out.
/// Reads block with no timer: the Housekeeper wakes a connection that is idle
/// or must make room, and a drain wakes them all, by shutting down the receive
/// side; the registry's wake reason then picks the reply. The protocol itself
/// lives in EchoSession. SO_SNDTIMEO = kSendSlice comes from the listening socket.
class EchoConnection {
 public:
  /// Bytes asked of one read in line framing.
  static constexpr std::size_t kLineReadSize = 16 * 1024;
  /// How often a write blocked on a peer that does not read looks up.
  static inline const Poco::Timespan kSendSlice{0, 200000};
  /// After our FIN: how long we wait for the client's close, and how many of its bytes we discard meanwhile.
  static inline const Poco::Timespan kLingerTime{1, 0};
  static constexpr std::size_t kLingerBytes = 1024 * 1024;
  /// Bytes still read after a drain began: a client that keeps sending cannot hold the drain open.
  static constexpr std::size_t kDrainBudget = 1024 * 1024;

  /// `slot` is the socket's registry entry, attached (running).
  EchoConnection(const Poco::Net::StreamSocket& socket, ConnectionSlot& slot, const ConnectionContext& context);
  /// Releases the registry entry, then closes the socket.
  ~EchoConnection();
  EchoConnection(const EchoConnection&) = delete;
  EchoConnection& operator=(const EchoConnection&) = delete;

  /// Serves the connection to its end.
  void run();

 private:
  /// How a connection ends.
  enum class Ending { SessionEnded, PeerClosed, IdleTimeout, IdleUnderLoad, Drained, Aborted, HandshakeTimeout };

  /// The TLS handshake (TlsHandshake.h). False when it failed: counted, and
  /// the connection ends without a word.
  bool handshake();
  /// The PROXY listener's header (ProxyHeaderRead.h): counted; on success the
  /// header's client becomes `peer` and claims its per-address place, and
  /// `first` gets the bytes that came behind it (in `_input`, valid until the
  /// next read). False when the connection
  /// ends here (with `ERR bad proxy header`, `ERR too many connections` or
  /// `ERR shutting down` written, or quietly when the proxy only connected).
  bool proxyHeader(std::string& peer, std::string_view& first);
  /// Who answered (WhoAnswer.h), once the connection is ready: the prefix's
  /// placeholders filled in, the who reply built, the banner sent.
  void personalize();
  /// The connection's "opened" log line and console event, once.
  void announce(const std::string& peer);

  /// Serves the connection to its end; `first` was received before (behind a PROXY header).
  void serve(std::string_view first);

  // Faults on demand (docs/protocol.md): a connection drawn for them is served
  // by serveWithFaults(), the plain loop never looks.
  using Clock = std::chrono::steady_clock;
  /// Draws this connection for the faults (echo.faultShare), once.
  void drawFaults();
  void serveWithFaults(std::string_view first);
  /// Each message of one read answered on its own: its reply held until its
  /// delay is over and written in chunks, or replaced by the fault. False
  /// when the connection ends here (its end already settled).
  bool answerWithFaults(std::string_view received, Clock::time_point arrived);
  /// Waits on this thread until `deadline` (the console shows it delaying).
  /// False when the connection must end first: aborted, or woken by the housekeeper.
  bool holdUntil(Clock::time_point deadline);
  bool writeReply(std::string_view reply);
  /// The fault in place of a reply: reset (RST at close) or close (FIN, no word).
  void inflict(FaultKind fault);
  /// The hang fault: reads and drops until the client leaves or the idle timeout or drain wakes it.
  void hang();
  /// After a read was answered: how the connection ends now, if it does.
  std::optional<Ending> afterRead(std::size_t size, std::size_t& drainBudget);
  /// The one way out of serve(): the last reply for `ending`, written.
  void end(Ending ending);
  Ending whyEndOfStream() const;
  void process(std::string_view received);
  /// `mayCork`: the session's last bytes wait for the FIN behind them (MSG_MORE).
  bool sendAll(std::string_view bytes, bool mayCork = true);
  void flush();
  void lingeringClose();

  Poco::Net::StreamSocket _socket;
  const ConnectionContext& _context;
  ConnectionRegistry& _registry;
  ServerMetrics& _metrics;
  ConnectionSlot* _slot;  ///< ours until release()
  EchoSession _session;
  std::size_t _inputSize;  ///< of _input used per read: 1024 in raw framing
  std::string _output;
  std::uint64_t _bytesIn = 0;
  std::uint64_t _bytesOut = 0;
  std::uint64_t _echoedCounted = 0;  ///< of _session.echoed(), already in the metrics
  std::string _closeReason = "closed by client";
  std::optional<ProxyHeader> _proxy;  ///< the PROXY listener: the header this connection came with
  ssl_st* _ssl = nullptr;    ///< the TLS connection's OpenSSL handle, for close_notify; null on the plain listener
  bool _peerClosed = false;  ///< the client half-closed: nothing more can arrive
  bool _announced = false;
  bool _faultEnded = false;          ///< a fault closed, reset or hung the connection: no lingering close after
  std::optional<FaultPlan> _faults;  ///< drawn for faults on demand
  std::uint64_t _answered = 0;       ///< with faults: replies sent, to find the message that gets the fault
  /// On the worker's stack with the rest of this object (not zeroed: only
  /// what a read fills is touched), beside the lines it holds: one less heap
  /// page per connection for the caches to keep warm. Last, so that a short
  /// read lands on the page that already holds the other members: a new
  /// worker's stack gets one page less.
  char _input[kLineReadSize];
};

}  // namespace echod
