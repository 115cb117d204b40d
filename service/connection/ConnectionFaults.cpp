#include "service/connection/ConnectionFaults.h"

#include <thread>

#include "service/connection/ConnectionRegistry.h"
#include "service/core/ThreadRandom.h"

namespace echod {
namespace {

/// How often a held reply looks whether the server is stopping or the housekeeper closed the connection.
constexpr std::chrono::milliseconds kHoldSlice{20};

}  // namespace

std::optional<ConnectionFaults> ConnectionFaults::draw(const FaultOptions& options, ConnectionSlot& slot,
                                                       const ConnectionRegistry& registry, FaultCounters& counters) {
  // Drawn as the connection is taken (echo.faultShare), from this worker's own generator.
  ConnectionFaults faults(options, threadRandom(), slot, registry, counters);
  if (!faults._plan.drawn()) return std::nullopt;
  slot.faults.store(true, std::memory_order_relaxed);
  return faults;
}

ConnectionFaults::Answered ConnectionFaults::answer(std::string_view received, Clock::time_point arrived,
                                                    EchoSession& session, std::string& output, const Write& write) {
  while (!received.empty() && session.verdict() == Verdict::Continue) {
    // An output limit of one byte: the session answers one message per call.
    received.remove_prefix(session.feed(received, output, 1));
    if (output.empty()) return {};  // an unfinished line, kept by the session
    if (const FaultKind fault = _plan.faultAfter(_answered); fault != FaultKind::None) {
      output.clear();
      return {fault, false};
    }
    ++_answered;
    const std::int64_t delayMs = _plan.nextDelayMs();
    if (delayMs > 0) _counters.countFault(FaultCounters::Fault::Delay);
    const bool sent =
        (delayMs <= 0 || holdUntil(arrived + std::chrono::milliseconds(delayMs))) && writeReply(output, write);
    output.clear();
    if (!sent) return {FaultKind::None, true};
  }
  return {};
}

void ConnectionFaults::count(FaultKind fault) {
  switch (fault) {
    case FaultKind::Reset:
      _counters.countFault(FaultCounters::Fault::Reset);
      break;
    case FaultKind::Close:
      _counters.countFault(FaultCounters::Fault::Close);
      break;
    case FaultKind::Hang:
      _counters.countFault(FaultCounters::Fault::Hang);
      break;
    case FaultKind::None:
      break;
  }
}

bool ConnectionFaults::holdUntil(Clock::time_point deadline) {
  // A held reply keeps its own thread (one slow client holds one thread and
  // no other), looking up every kHoldSlice: the drain lets it finish, its
  // deadline (aborting) and the housekeeper's idle timeout do not.
  _slot.delaying.store(true, std::memory_order_relaxed);
  bool held = true;
  for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
    const auto wake = _slot.wake.load(std::memory_order_acquire);
    if (_registry.aborting() || wake == ConnectionSlot::Wake::IdleTimeout ||
        wake == ConnectionSlot::Wake::IdleUnderLoad) {
      held = false;
      break;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(deadline - now, kHoldSlice));
  }
  _slot.delaying.store(false, std::memory_order_relaxed);
  return held;
}

bool ConnectionFaults::writeReply(std::string_view reply, const Write& write) {
  const std::size_t chunk = _plan.options().chunk;
  if (chunk == 0 || reply.size() <= chunk) return write(reply);
  _counters.countFault(FaultCounters::Fault::Chunk);
  const auto interval = std::chrono::milliseconds(_plan.options().chunkIntervalMs);
  while (!reply.empty()) {
    // Each chunk leaves as it is written (TCP_NODELAY, uncorked), even the last reply's.
    if (!write(reply.substr(0, chunk))) return false;
    reply.remove_prefix(std::min(chunk, reply.size()));
    if (!reply.empty() && !holdUntil(Clock::now() + interval)) return false;
  }
  return true;
}

}  // namespace echod
