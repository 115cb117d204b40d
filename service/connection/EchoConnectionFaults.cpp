// EchoConnection's faults on demand (docs/protocol.md "Faults on demand"):
// a connection drawn for them is served here instead of by serve()'s loop,
// so that with faults off the plain path pays one branch per connection.
#include "service/connection/EchoConnection.h"

#include <random>
#include <thread>

namespace echod {
namespace {

/// How often a held reply looks whether the server is stopping or the housekeeper closed the connection.
constexpr std::chrono::milliseconds kHoldSlice{20};

}  // namespace

void EchoConnection::drawFaults() {
  // Drawn as the connection is taken (echo.faultShare), from this worker's own generator.
  thread_local std::mt19937_64 random(std::random_device{}());
  _faults.emplace(_context.options.faults, random());
  if (!_faults->drawn()) {
    _faults.reset();
    return;
  }
  _slot->faults.store(true, std::memory_order_relaxed);
}

void EchoConnection::serveWithFaults(std::string_view first) {
  std::size_t drainBudget = kDrainBudget;
  std::string_view received = first;  // already counted by the PROXY header's read
  for (;;) {
    if (received.empty()) {
      const int n = _registry.aborting() ? 0 : _socket.receiveBytes(_input, static_cast<int>(_inputSize));
      if (n <= 0) return end(whyEndOfStream());
      received = std::string_view(_input, static_cast<std::size_t>(n));
      _bytesIn += received.size();
      _metrics.traffic.add(PerCpuCounters::BytesReceived, received.size());
    }
    const std::size_t size = received.size();
    if (!answerWithFaults(received, Clock::now())) return;
    if (const auto ending = afterRead(size, drainBudget)) return end(*ending);
    received = {};
  }
}

bool EchoConnection::answerWithFaults(std::string_view received, Clock::time_point arrived) {
  while (!received.empty() && _session.verdict() == Verdict::Continue) {
    // An output limit of one byte: the session answers one message per call.
    received.remove_prefix(_session.feed(received, _output, 1));
    if (_output.empty()) return true;  // an unfinished line, kept by the session
    const FaultKind fault = _faults->faultAfter(_answered);
    if (fault != FaultKind::None) {
      _output.clear();
      inflict(fault);
      return false;
    }
    ++_answered;
    const std::int64_t delayMs = _faults->nextDelayMs();
    if (delayMs > 0) _metrics.countFault(ServerMetrics::Fault::Delay);
    if ((delayMs > 0 && !holdUntil(arrived + std::chrono::milliseconds(delayMs))) || !writeReply(_output)) {
      _output.clear();
      end(whyEndOfStream());  // aborted, or woken for the idle timeout while the reply was held
      return false;
    }
    _output.clear();
  }
  return true;
}

bool EchoConnection::holdUntil(Clock::time_point deadline) {
  // A held reply keeps its own thread (one slow client holds one thread and
  // no other), looking up every kHoldSlice: the drain lets it finish, its
  // deadline (aborting) and the housekeeper's idle timeout do not.
  _slot->delaying.store(true, std::memory_order_relaxed);
  bool held = true;
  for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
    const auto wake = _slot->wake.load(std::memory_order_acquire);
    if (_registry.aborting() || wake == ConnectionSlot::Wake::IdleTimeout ||
        wake == ConnectionSlot::Wake::IdleUnderLoad) {
      held = false;
      break;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(deadline - now, kHoldSlice));
  }
  _slot->delaying.store(false, std::memory_order_relaxed);
  return held;
}

bool EchoConnection::writeReply(std::string_view reply) {
  const std::size_t chunk = _faults->options().chunk;
  if (chunk == 0 || reply.size() <= chunk) return sendAll(reply, false);
  _metrics.countFault(ServerMetrics::Fault::Chunk);
  const auto interval = std::chrono::milliseconds(_faults->options().chunkIntervalMs);
  while (!reply.empty()) {
    // Not corked, even for a last reply: each chunk leaves as it is written (TCP_NODELAY).
    if (!sendAll(reply.substr(0, chunk), false)) return false;
    reply.remove_prefix(std::min(chunk, reply.size()));
    if (!reply.empty() && !holdUntil(Clock::now() + interval)) return false;
  }
  return true;
}

void EchoConnection::inflict(FaultKind fault) {
  _faultEnded = true;
  switch (fault) {
    case FaultKind::Reset:
      // SO_LINGER 0: the close that release() does sends RST, not FIN.
      _metrics.countFault(ServerMetrics::Fault::Reset);
      _socket.setLinger(true, 0);
      _closeReason = "fault: reset";
      return;
    case FaultKind::Close:
      _metrics.countFault(ServerMetrics::Fault::Close);
      _closeReason = "fault: closed with no word";
      lingeringClose();  // an orderly FIN, the client's bytes read meanwhile so that none triggers an RST
      return;
    case FaultKind::Hang:
      _metrics.countFault(ServerMetrics::Fault::Hang);
      hang();
      return;
    case FaultKind::None:
      break;
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
    _slot->bytesIn.store(_bytesIn, std::memory_order_relaxed);
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
    default:
      _closeReason = "fault: hung until the client closed";
  }
}

}  // namespace echod
