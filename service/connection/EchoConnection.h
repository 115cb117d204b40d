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
#include "service/connection/ConnectionFaults.h"
#include "service/core/Listener.h"

struct ssl_st;

namespace echod {

/// One client connection on a worker thread (EchoWorker): opens it (what its
/// listener runs first: a PROXY header, a TLS handshake), then reads, feeds
/// the EchoSession, writes what it returns, and stamps each complete message
/// in the registry. serve() is the one read loop, end() the one way out:
/// every ending (FIN, ERR, idle, drain, abort, a refused opening, a fault on
/// demand) is one Ending passed to it.
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

  /// `slot` is the socket's registry entry, already running on this worker.
  EchoConnection(const Poco::Net::StreamSocket& socket, ConnectionSlot& slot, const ConnectionContext& context);
  /// Releases the registry entry, then closes the socket.
  ~EchoConnection();
  EchoConnection(const EchoConnection&) = delete;
  EchoConnection& operator=(const EchoConnection&) = delete;

  /// Serves the connection to its end.
  void run();

 private:
  /// How a connection ends.
  enum class Ending {
    SessionEnded,    ///< FIN or ERR already written by the session
    PeerClosed,      ///< the client half-closed: what it sent is answered, then FIN
    IdleTimeout,     ///< ERR idle timeout
    IdleUnderLoad,   ///< ERR idle timeout, to make room for a waiting connection
    Drained,         ///< what it holds is answered, then FIN
    Aborted,         ///< ERR shutting down at the drain's deadline
    OpeningTimeout,  ///< the opening's deadline passed just as a step finished
    OpeningRefused,  ///< the opening failed: _refusal answered if set, else quietly
    Fault,           ///< a fault on demand in place of a reply (_fault)
    MaxAge,          ///< what it holds is answered, then FIN: echo.maxConnectionAge
  };
  /// What its listener runs first. False when the connection ends there (through end()).
  bool open(const ListenerKind& kind, std::string& peer, std::string_view& first);
  /// The TLS handshake (TlsHandshake.h). False when it failed: counted, and
  /// the connection ends without a word.
  bool handshake();
  /// Who answered (WhoAnswer.h), once the connection is ready: the prefix's
  /// placeholders filled in, the who reply built, the banner sent.
  void personalize();
  /// echo.maxConnectionAge: this connection's age limit drawn, and armed with the housekeeper.
  void armMaxAge();
  /// The connection's "opened" log line and console event, once.
  void announce(const std::string& peer);

  /// The read loop: read, answer (EchoSession, or ConnectionFaults for a
  /// connection drawn for faults on demand), write, stamp, until an ending;
  /// `first` was received before (behind a PROXY header).
  void serve(std::string_view first);
  /// After a read was answered: how the connection ends now, if it does.
  std::optional<Ending> afterRead(std::size_t size, std::size_t& drainBudget);
  /// The one way out: the last reply for `ending`, written, or the fault applied.
  void end(Ending ending);
  Ending whyEndOfStream() const;
  void process(std::string_view received);
  /// `mayCork`: the session's last bytes wait for the FIN behind them (MSG_MORE).
  bool sendAll(std::string_view bytes, bool mayCork = true);
  /// One read into _input: bytes read, 0 at end of stream; throws on a socket error.
  int receive();
  /// One write of what fits: bytes written, 0 when a slice of SO_SNDTIMEO
  /// passed with none taken (the peer does not read); throws on a socket error.
  int sendSome(std::string_view bytes, int flags);
  void flush();
  void lingeringClose();
  /// The hang fault: reads and drops until the client leaves or the idle timeout or drain wakes it.
  void hang();

  // What an opening, an ending or the log uses, once per connection; then
  // what every read touches, together on a few cache lines right before the
  // read buffer (a woken worker's stack is cold: fewer lines, fewer misses).
  const ConnectionContext& _context;
  ConnectionSlot* _slot;              ///< ours until release()
  std::optional<ProxyHeader> _proxy;  ///< the PROXY listener: the header this connection came with
  std::string _closeReason = "closed by client";
  std::optional<ErrorReason> _refusal;  ///< Ending::OpeningRefused: the ERR to answer
  FaultKind _fault = FaultKind::None;   ///< Ending::Fault: which
  bool _announced = false;
  bool _inTlsStep = false;   ///< the opening's step under way or just done: TLS (else the PROXY header)
  bool _peerClosed = false;  ///< the client half-closed: nothing more can arrive
  Poco::Net::StreamSocket _socket;
  const int _fd;  ///< its descriptor: the plain path's recv(2) and send(2)
  ConnectionRegistry& _registry;
  ConnectionMetrics& _metrics;
  ssl_st* _ssl = nullptr;  ///< the TLS connection's OpenSSL handle, for close_notify; null on the plain listener
  std::size_t _inputSize;  ///< of _input used per read: 1024 in raw framing
  std::uint64_t _bytesIn = 0;
  std::uint64_t _bytesOut = 0;
  std::uint64_t _echoedCounted = 0;         ///< of _session.echoed(), already in the metrics
  ConnectionStamps _stamps;                 ///< what the housekeeper and the console see of it (the slot points here)
  std::optional<ConnectionFaults> _faults;  ///< drawn for faults on demand
  std::int64_t _ageDeadlineMs = 0;          ///< echo.maxConnectionAge: CoarseClock; 0: none
  std::unique_ptr<ConnectionWho> _who;      ///< the who command's answers, when it is on
  EchoSession _session;
  std::string _output;
  /// On the worker's stack with the rest of this object (not zeroed: only
  /// what a read fills is touched), beside the lines it holds: one less heap
  /// page per connection for the caches to keep warm. Last, so that a short
  /// read lands on the page that already holds the other members: a new
  /// worker's stack gets one page less.
  char _input[kLineReadSize];
};

}  // namespace echod
