#include "service/connection/ProxyHeaderRead.h"

#include <cstring>

#include "service/connection/CoarseClock.h"

namespace echod {
namespace {

using Result = ServerMetrics::ProxyResult;
using Version = ServerMetrics::ProxyVersion;

/// The version the first byte announces ('P': v1, CR: v2), else none.
Version versionOf(std::string_view received) {
  if (received.empty()) return Version::None;
  if (received[0] == 'P') return Version::V1;
  return received[0] == '\r' ? Version::V2 : Version::None;
}

}  // namespace

ProxyHeaderRead readProxyHeader(Poco::Net::StreamSocket& socket, ConnectionSlot& slot, char* buffer, std::size_t size,
                                std::optional<ProxyHeader>& header) {
  ProxyHeaderRead out;
  std::string gathered;  // only when the header is split over reads
  for (;;) {
    const int n = socket.receiveBytes(buffer, static_cast<int>(size));
    if (n <= 0) {
      // End of stream: the peer closed, or the housekeeper or the drain shut our receive side.
      const auto wake = slot.wake.load(std::memory_order_acquire);
      out.version = versionOf(gathered);
      if (wake == ConnectionSlot::Wake::Drain) {
        out.drained = true;
        out.closeReason = "drained at shutdown before a complete PROXY header";
      } else if (wake != ConnectionSlot::Wake::None) {
        out.result = Result::Timeout;
        out.closeReason = "closed: no complete PROXY header in time";
      } else if (gathered.empty()) {
        out.closeReason = "closed by the proxy before a PROXY header";  // a health check that only connects
      } else {
        out.result = Result::Closed;
        out.closeReason = "closed by the proxy within its PROXY header";
      }
      break;
    }
    out.bytesRead += static_cast<std::size_t>(n);
    // Most headers arrive in one read: parsed where they landed, not copied.
    std::string_view received(buffer, static_cast<std::size_t>(n));
    if (!gathered.empty()) {
      gathered.append(received);
      received = gathered;
    }
    ProxyParse parse = parseProxyHeader(received);
    out.version = versionOf(received);
    if (parse.status == ProxyParse::Status::NeedMore) {
      if (gathered.empty()) gathered.assign(received);
      continue;  // bounded: the parser says Done or Bad by kProxyHeaderMax bytes
    }
    if (parse.status == ProxyParse::Status::Bad) {
      out.result = Result::Bad;
      out.closeReason = std::string("closed: bad PROXY header (") + parse.error + ")";
      break;
    }
    out.result = parse.header.local ? Result::Local : Result::Proxied;
    header.emplace(std::move(parse.header));
    // Behind a header gathered over reads: fewer bytes than the last read
    // brought (the header did not end before it), moved to the buffer's start.
    std::string_view after = received.substr(parse.length);
    if (!gathered.empty()) {
      std::memmove(buffer, after.data(), after.size());
      after = std::string_view(buffer, after.size());
    }
    out.after = after;
    break;
  }
  slot.handshakeDeadlineMs.store(0, std::memory_order_seq_cst);
  return out;
}

}  // namespace echod
