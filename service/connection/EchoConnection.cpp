#include "service/connection/EchoConnection.h"

#include <Poco/Exception.h>
#include <Poco/Stopwatch.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "service/connection/ConnectionLog.h"
#include "service/connection/ProxyHeaderRead.h"
#include "service/connection/SocketEndings.h"
#include "service/connection/TlsHandshake.h"
#include "service/core/ListeningSocket.h"
#include "service/core/ThreadRandom.h"
#include "tls/TlsContext.h"

namespace echod {
namespace {

constexpr std::size_t kOutputFlush = 64 * 1024;  ///< write once this much output is pending
constexpr std::size_t kLogLineBytes = 128;       ///< a connection's log line, reserved before it is built

/// A send that timed out: POCO reports SO_SNDTIMEO's EAGAIN as an IOException, not a TimeoutException.
bool sendTimedOut(const Poco::Exception& e) {
  return dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr || e.code() == EAGAIN || e.code() == EWOULDBLOCK;
}

}  // namespace

EchoConnection::EchoConnection(const Poco::Net::StreamSocket& socket, ConnectionSlot& slot,
                               const ConnectionContext& context)
    : _context(context),
      _slot(&slot),
      _socket(socket),
      _fd(socket.impl()->sockfd()),
      _registry(context.registry),
      _metrics(context.metrics),
      _inputSize(context.options.session.framing == Framing::Raw ? EchoSession::kRawMessageSize : kLineReadSize),
      _stamps(slot.admittedMs),
      // One branch per connection when faults are off.
      _faults(context.options.faults.any()
                  ? ConnectionFaults::draw(context.options.faults, slot, context.registry, context.metrics)
                  : std::nullopt),
      _session(context.options.session) {
  slot.stamps.store(&_stamps, std::memory_order_release);  // read under the registry's lock, until release()
}

EchoConnection::~EchoConnection() { _registry.release(_socket); }

void EchoConnection::run() {
  // The peer's name costs a system call: only when it is logged or shown.
  auto& log = connectionLogger();
  const bool console = _context.options.console;
  std::string peer = log.information() || console ? peerName(_socket) : std::string();
  _metrics.count(_metrics.connectionsOpened);
  _metrics.count(_metrics.connectionsByListener[indexOf(_slot->listener)]);
  const ListenerKind& kind = kindOf(_slot->listener);
  // A proxied connection is announced once its header names the client.
  if (!kind.proxyHeader) announce(peer);
  try {
    std::string_view first;  // behind a PROXY header: bytes already read, in _input
    if (open(kind, peer, first)) {
      if (_context.options.maxAge.any()) armMaxAge();
      if (_context.options.personalized()) personalize();
      serve(first);
    }
    if (_session.verdict() != Verdict::Continue) lingeringClose();
  } catch (const Poco::Exception& e) {
    // A reset or vanished peer ends only this connection.
    announce(peer);
    _closeReason = "ended: " + e.displayText();
  }
  if (_session.verdict() == Verdict::Error) _metrics.count(_metrics.errors[ConnectionMetrics::slot(_session.error())]);
  _metrics.traffic.add(PerCpuCounters::Messages, _session.echoed() - _echoedCounted);
  if (console) _context.events.record({CoarseClock::nowMs(), peer, _slot->listener, false, _closeReason});
  if (log.information()) {
    std::string line;  // one string sized once: `+` made three or four allocations a line
    line.reserve(kLogLineBytes);
    line.append("connection from ").append(peer).append(" ").append(_closeReason).append(": ");
    line.append(std::to_string(_bytesIn)).append(" bytes in, ").append(std::to_string(_bytesOut)).append(" bytes out");
    logInformation(log, line);
  }
}

bool EchoConnection::open(const ListenerKind& kind, std::string& peer, std::string_view& first) {
  if (kind.proxyHeader) {
    // With TLS behind the header, the header is read to its last byte and no
    // further: what follows is the ClientHello, OpenSSL's to read.
    ProxyOpening opening = openProxied(_socket, *_slot, _registry, _metrics, _context.options.proxyHeaderTimeout,
                                       _input, _inputSize, kind.tls, _proxy, peer);
    _bytesIn += opening.bytesRead;
    _metrics.traffic.add(PerCpuCounters::BytesReceived, opening.bytesRead);
    announce(peer);
    if (!opening.ok) {
      _refusal = opening.refusal;
      _closeReason = std::move(opening.closeReason);
      end(Ending::OpeningRefused);
      return false;
    }
    first = opening.first;
  }
  if (kind.tls && !handshake()) {
    end(Ending::OpeningRefused);  // quietly: a failed handshake has nobody to answer
    return false;
  }
  return true;
}

void EchoConnection::armMaxAge() {
  _ageDeadlineMs = _slot->admittedMs + _context.options.maxAge.draw(threadRandom());
  _registry.armAgeDeadline(*_slot, _ageDeadlineMs);
}

void EchoConnection::announce(const std::string& peer) {
  if (_announced) return;
  _announced = true;
  if (_context.options.console) {
    _context.events.record({CoarseClock::nowMs(), peer, _slot->listener, true, std::string()});
  }
  auto& log = connectionLogger();
  if (log.information()) {
    const char* kind = _slot->listener == Listener::Tls        ? "TLS connection"
                       : _slot->listener == Listener::Proxy    ? "proxied connection"
                       : _slot->listener == Listener::ProxyTls ? "proxied TLS connection"
                                                               : "connection";
    std::string line;  // appended: Poco::format builds a std::ostringstream per call
    line.reserve(kLogLineBytes);
    line.append(kind).append(" from ").append(peer).append(" opened");
    logInformation(log, line);
  }
}

void EchoConnection::serve(std::string_view first) {
  std::size_t drainBudget = kDrainBudget;
  std::string_view received = first;  // already counted by the PROXY header's read
  for (;;) {
    // read → answer → write → check: every way out goes through end().
    if (received.empty()) {
      const int n = _registry.aborting() ? 0 : receive();
      if (n <= 0) return end(whyEndOfStream());
      received = std::string_view(_input, static_cast<std::size_t>(n));
      _bytesIn += received.size();
      _metrics.traffic.add(PerCpuCounters::BytesReceived, received.size());
    }
    const std::size_t size = received.size();
    if (!_faults) {
      process(received);
    } else if (const auto answered = _faults->answer(received, ConnectionFaults::Clock::now(), _session, _output,
                                                     [this](std::string_view reply) { return sendAll(reply, false); });
               answered.fault != FaultKind::None) {
      _fault = answered.fault;
      return end(Ending::Fault);
    } else if (answered.interrupted) {
      return end(whyEndOfStream());  // aborted, or woken for the idle timeout while a reply was held
    }
    if (const auto ending = afterRead(size, drainBudget)) return end(*ending);
    received = {};
  }
}

void EchoConnection::personalize() {
  const ConnectionOptions& o = _context.options;
  ConnectionFacts facts;
  facts.listener = listenerName(_slot->listener);
  facts.local = _socket.address().toString();
  facts.peer = peerName(_socket);
  const bool named = _proxy && _proxy->source && _proxy->source->family != ProxyAddress::Family::Unix;
  facts.client = named ? _proxy->source->text() : facts.peer;
  facts.proxy = _proxy ? &*_proxy : nullptr;
  if (_ssl != nullptr) facts.tls = tls::sessionFacts(_ssl);
  facts.faults = _faults.has_value();
  if (o.prefixPlaceholders) _session.setPrefix(expandPlaceholders(o.session.prefix, o.identity, facts));
  if (!o.banner.empty()) {
    _output = expandPlaceholders(o.banner, o.identity, facts);
    if (o.session.framing == Framing::Line) _output += '\n';
    flush();
  }
  if (!o.session.whoCommand.empty()) {
    // Asked at each who: its "tcp" is TCP_INFO at that moment.
    _who = std::make_unique<ConnectionWho>(o.identity, std::move(facts), _fd);
    _session.setWhoSource(_who.get());
  }
}

bool EchoConnection::handshake() {
  _inTlsStep = true;
  _registry.armOpeningDeadline(*_slot, _context.options.tlsHandshakeTimeout.totalMilliseconds());
  auto handshake = tlsHandshake(_socket, *_slot);
  _metrics.countHandshake(handshake.result);
  _ssl = handshake.ssl;
  if (handshake.result != TlsHandshakeCounters::Handshake::Ok) _closeReason = std::move(handshake.closeReason);
  if (TlsHandshakeCounters::refusedClientCertificate(handshake.result)) {
    // With TLS 1.3 the client has finished its handshake and may be sending
    // already: the alert is our last word, lingered behind like a FIN.
    lingeringClose();
  }
  return handshake.result == TlsHandshakeCounters::Handshake::Ok;
}

std::optional<EchoConnection::Ending> EchoConnection::afterRead(std::size_t size, std::size_t& drainBudget) {
  _stamps.bytesIn.store(_bytesIn, std::memory_order_relaxed);
  _stamps.bytesOut.store(_bytesOut, std::memory_order_relaxed);
  bool aged = false;
  if (_session.echoed() != _echoedCounted) {
    // Idle means no complete message: an unfinished line does not count.
    // One read of the coarse clock (vDSO, no system call), stores on this thread's own stack.
    const std::int64_t now = CoarseClock::nowMs();
    _stamps.lastMessageMs.store(now, std::memory_order_relaxed);
    _stamps.messages.store(_session.echoed(), std::memory_order_relaxed);
    _metrics.traffic.add(PerCpuCounters::Messages, _session.echoed() - _echoedCounted);
    _echoedCounted = _session.echoed();
    // A busy connection ends at its age right after the message in hand; an idle one is woken for it.
    aged = _ageDeadlineMs != 0 && CoarseClock::due(_ageDeadlineMs, now);
  }
  if (_session.verdict() != Verdict::Continue) return Ending::SessionEnded;
  if (aged) return Ending::MaxAge;
  if (_registry.draining()) {
    // A client that keeps sending cannot hold the drain open.
    drainBudget -= std::min(drainBudget, size);
    if (drainBudget == 0) return Ending::Drained;
  }
  return std::nullopt;
}

EchoConnection::Ending EchoConnection::whyEndOfStream() const {
  // End of stream: the client half-closed, or someone shut our receive side.
  if (_registry.aborting()) return Ending::Aborted;
  switch (_slot->wake.load(std::memory_order_acquire)) {
    case ConnectionSlot::Wake::IdleTimeout:
      return Ending::IdleTimeout;
    case ConnectionSlot::Wake::IdleUnderLoad:
      return Ending::IdleUnderLoad;
    case ConnectionSlot::Wake::Drain:
      return Ending::Drained;
    case ConnectionSlot::Wake::OpeningTimeout:  // woken just as the opening finished
      return Ending::OpeningTimeout;
    case ConnectionSlot::Wake::MaxAge:
      return Ending::MaxAge;
    case ConnectionSlot::Wake::None:
      break;
  }
  return Ending::PeerClosed;
}

void EchoConnection::end(Ending ending) {
  switch (ending) {
    case Ending::SessionEnded:  // FIN or ERR is already written
      if (_session.messageLimitReached()) {
        _metrics.countRecycled(ConnectionMetrics::Recycle::MaxMessages);
        _closeReason = "sent FIN after its last message (echo.maxMessagesPerConnection)";
        return;
      }
      _closeReason = _session.verdict() == Verdict::Fin ? std::string("sent FIN")
                                                        : "sent ERR " + std::string(reasonText(_session.error()));
      return;
    case Ending::MaxAge:
      _session.shutdown(_output);
      _metrics.countRecycled(ConnectionMetrics::Recycle::MaxAge);
      _closeReason = "sent FIN at its age (echo.maxConnectionAge)";
      break;
    case Ending::PeerClosed:
      _peerClosed = true;
      _session.endOfInput(_output);
      _closeReason = "closed by client";
      break;
    case Ending::IdleTimeout:
      _session.fail(ErrorReason::IdleTimeout, _output);
      _closeReason = "idle timeout";
      break;
    case Ending::IdleUnderLoad:
      _session.fail(ErrorReason::IdleTimeout, _output);
      _closeReason = "idle timeout under load";
      break;
    case Ending::Drained:
      _session.shutdown(_output);
      _closeReason = "drained at shutdown";
      break;
    case Ending::Aborted:
      _session.fail(ErrorReason::ShuttingDown, _output);
      _closeReason = "aborted at shutdown";
      break;
    case Ending::OpeningTimeout:  // woken for its deadline just as the header or the handshake finished
      if (!_inTlsStep) {
        _session.fail(ErrorReason::BadProxyHeader, _output);
        _closeReason = "closed: no complete PROXY header in time";
        break;
      }
      _closeReason = "closed: TLS handshake timeout";
      return;
    case Ending::OpeningRefused:  // _closeReason is the opening's
      if (!_refusal) return;
      _session.fail(*_refusal, _output);
      break;
    case Ending::Fault:
      _faults->count(_fault);
      if (_fault == FaultKind::Reset) {
        _socket.setLinger(true, 0);  // the close that release() does sends RST, not FIN
        _closeReason = "fault: reset";
      } else if (_fault == FaultKind::Close) {
        _closeReason = "fault: closed with no word";
        lingeringClose();  // an orderly FIN, the client's bytes read meanwhile so that none triggers an RST
      } else {
        hang();
      }
      return;
  }
  flush();
}

void EchoConnection::process(std::string_view received) {
  // All replies of one read leave in one write, unless they outgrow kOutputFlush.
  while (!received.empty() && _session.verdict() == Verdict::Continue) {
    received.remove_prefix(_session.feed(received, _output, kOutputFlush));
    flush();
    // A long run of replies (pipelined lines, a long prefix) stops between
    // two replies at the drain deadline, as a read would.
    if (!received.empty() && _registry.aborting()) {
      _session.fail(ErrorReason::ShuttingDown, _output);
      flush();
    }
  }
}

void EchoConnection::flush() {
  if (_output.empty()) return;
  if (!sendAll(_output)) throw Poco::TimeoutException("peer stopped reading");
  _output.clear();
}

bool EchoConnection::sendAll(std::string_view bytes, bool mayCork) {
  // The clock is read only once a write stalls: the common path is one send().
  std::optional<Poco::Stopwatch> stalled;
  // The session's last bytes (its FIN or ERR line, or the replies before a
  // half-close): held back for the FIN that lingeringClose() sends right
  // after, so both leave in one segment, one packet and one wake-up less for
  // the client. shutdown() pushes them; so would close(), or at worst the
  // kernel's cork timer.
  const int lastWrite = mayCork && _ssl == nullptr && _session.verdict() != Verdict::Continue ? MSG_MORE : 0;
  while (!bytes.empty()) {
    if (const int sent = sendSome(bytes, MSG_NOSIGNAL | lastWrite); sent > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(sent));
      _bytesOut += static_cast<std::size_t>(sent);
      _metrics.traffic.add(PerCpuCounters::BytesSent, static_cast<std::uint64_t>(sent));
      stalled.reset();
      continue;
    }
    // The peer is not reading. Give up at the idle timeout, or at once when aborting.
    if (!stalled) {
      stalled.emplace();
      stalled->start();
    }
    const auto idleUs = _context.options.idleTimeout.totalMicroseconds();
    const bool idleOver = idleUs > 0 && stalled->elapsed() >= idleUs;
    if (idleOver || _registry.aborting()) return false;
  }
  return true;
}

int EchoConnection::receive() {
  if (_ssl != nullptr) return _socket.receiveBytes(_input, static_cast<int>(_inputSize));
  // The plain path calls the kernel itself: POCO's receiveBytes is a virtual
  // call and a look at its socket object, on every message of every thread.
  for (;;) {
    const ssize_t n = ::recv(_fd, _input, _inputSize, 0);
    if (n >= 0) return static_cast<int>(n);
    if (errno != EINTR) throwSocketError(errno);
  }
}

int EchoConnection::sendSome(std::string_view bytes, int flags) {
  if (_ssl == nullptr) {
    for (;;) {
      const ssize_t n = ::send(_fd, bytes.data(), bytes.size(), flags);
      if (n > 0) return static_cast<int>(n);
      if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) return 0;  // SO_SNDTIMEO's slice passed
      if (errno != EINTR) throwSocketError(errno);
    }
  }
  try {
    const int sent = _socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()), flags);
    return sent > 0 ? sent : 0;  // TLS: 0 wants a retry of the same bytes
  } catch (const Poco::Exception& e) {
    if (sendTimedOut(e)) return 0;
    throw;
  }
}

void EchoConnection::hang() {
  // Never another word: read and drop until the client leaves, the housekeeper's
  // idle timeout (counted from the last reply) or the drain wakes the read, or
  // the drain's deadline. Then the socket closes with nothing written.
  for (;;) {
    const int n = _registry.aborting() ? 0 : _socket.receiveBytes(_input, static_cast<int>(_inputSize));
    if (n <= 0) break;
    _bytesIn += static_cast<std::size_t>(n);
    _metrics.traffic.add(PerCpuCounters::BytesReceived, static_cast<std::size_t>(n));
    _stamps.bytesIn.store(_bytesIn, std::memory_order_relaxed);
  }
  switch (whyEndOfStream()) {
    case Ending::IdleTimeout:
    case Ending::IdleUnderLoad:
      _closeReason = "fault: hung until the idle timeout";
      break;
    case Ending::Drained:
    case Ending::Aborted:
      _closeReason = "fault: hung until shutdown";
      break;
    case Ending::MaxAge:
      _closeReason = "fault: hung until its age";
      break;
    default:
      _closeReason = "fault: hung until the client closed";
  }
}

void EchoConnection::lingeringClose() {
  // Our FIN goes out right behind the last reply (on TLS, after close_notify).
  // Closing while the client's bytes still arrive would make the kernel
  // answer them with RST, and an RST can destroy that reply before the client
  // reads it; checking for pending input first leaves a race with bytes still
  // in flight. So read and discard until the client closes too, within a time
  // and byte bound. A client that already half-closed can send nothing more:
  // close at once. System calls on the descriptor itself: POCO's TLS socket
  // has no half-close, and what follows close_notify is not read as TLS.
  // On the plain listener the housekeeper does the waiting (LingeringCloses),
  // and this worker is free at once.
  const int fd = _socket.impl()->sockfd();
  if (_ssl != nullptr) tls::sendCloseNotify(_ssl);
  ::shutdown(fd, SHUT_WR);
  if (_peerClosed) return;
  if (_ssl == nullptr &&
      _context.lingering.adopt(fd, CoarseClock::nowMs() + kLingerTime.totalMilliseconds(), kLingerBytes)) {
    return;
  }
  lingerOnThisThread(_socket, kLingerTime, kLingerBytes, _input, _inputSize);
}

}  // namespace echod
