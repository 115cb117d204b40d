#include "service/connection/ProxyHeaderRead.h"

#include <sys/socket.h>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>

#include <cerrno>
#include <cstring>

#include "service/core/CoarseClock.h"
#include "service/core/ListeningSocket.h"

namespace echod {
namespace {

using Result = ProxyHeaderCounters::ProxyResult;
using Version = ProxyHeaderCounters::ProxyVersion;

/// The version the first byte announces ('P': v1, CR: v2), else none.
Version versionOf(std::string_view received) {
  if (received.empty()) return Version::None;
  if (received[0] == 'P') return Version::V1;
  return received[0] == '\r' ? Version::V2 : Version::None;
}

}  // namespace

/// One read of the header. Exact: from the descriptor itself, since the
/// socket of a TLS listener reads through OpenSSL, which must see only what
/// follows the header; a reset throws as POCO's read does.
int receive(Poco::Net::StreamSocket& socket, char* buffer, std::size_t size, bool exact, int flags) {
  if (!exact) return socket.receiveBytes(buffer, static_cast<int>(size));
  for (;;) {
    const ssize_t n = ::recv(socket.impl()->sockfd(), buffer, size, flags);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) throw Poco::Net::ConnectionResetException();
    throw Poco::IOException(std::string("reading the PROXY header: ") + std::strerror(errno));
  }
}

/// Takes `count` bytes the socket already holds (they were peeked) and drops them.
void take(Poco::Net::StreamSocket& socket, char* buffer, std::size_t count) {
  while (count > 0) {
    const int n = receive(socket, buffer, count, true, 0);
    if (n <= 0) return;  // shut down meanwhile: the next step sees the end of stream
    count -= static_cast<std::size_t>(n);
  }
}

ProxyHeaderRead readProxyHeader(Poco::Net::StreamSocket& socket, ConnectionSlot& slot, char* buffer, std::size_t size,
                                bool exact, std::optional<ProxyHeader>& header) {
  ProxyHeaderRead out;
  std::string gathered;  // only when the header is split over reads
  for (;;) {
    // Exact: a peek, and a second read takes what is header. A peek returns
    // at once only with new bytes, since all it saw before was taken.
    const int n = receive(socket, buffer, size, exact, MSG_PEEK);
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
    if (!exact) out.bytesRead += static_cast<std::size_t>(n);
    // Most headers arrive in one read: parsed where they landed, not copied.
    std::string_view received(buffer, static_cast<std::size_t>(n));
    const std::size_t before = gathered.size();
    if (!gathered.empty()) {
      gathered.append(received);
      received = gathered;
    }
    ProxyParse parse = parseProxyHeader(received);
    out.version = versionOf(received);
    if (parse.status == ProxyParse::Status::NeedMore) {
      if (gathered.empty()) gathered.assign(received);
      if (exact) {
        take(socket, buffer, static_cast<std::size_t>(n));  // all of it is header so far
        out.bytesRead += static_cast<std::size_t>(n);
      }
      continue;  // bounded: the parser says Done or Bad by kProxyHeaderMax bytes
    }
    if (parse.status == ProxyParse::Status::Bad) {
      out.result = Result::Bad;
      out.closeReason = std::string("closed: bad PROXY header (") + parse.error + ")";
      break;
    }
    out.result = parse.header.local ? Result::Local : Result::Proxied;
    if (exact) {
      // The header's last bytes, and not one more.
      take(socket, buffer, parse.length - before);
      out.bytesRead += parse.length - before;
      header.emplace(std::move(parse.header));
      break;
    }
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
  slot.openingDeadlineMs.store(0, std::memory_order_seq_cst);
  return out;
}

ProxyOpening openProxied(Poco::Net::StreamSocket& socket, ConnectionSlot& slot, ConnectionRegistry& registry,
                         ProxyHeaderCounters& counters, const Poco::Timespan& timeout, char* buffer, std::size_t size,
                         bool exact, std::optional<ProxyHeader>& header, std::string& peer) {
  registry.armOpeningDeadline(slot, timeout.totalMilliseconds());
  ProxyHeaderRead read = readProxyHeader(socket, slot, buffer, size, exact, header);
  ProxyOpening out;
  out.bytesRead = read.bytesRead;
  if (read.drained) {
    out.refusal = ErrorReason::ShuttingDown;
    out.closeReason = std::move(read.closeReason);
    return out;
  }
  counters.countProxyHeader(read.version, read.result);
  if (!read.ok()) {
    out.closeReason = std::move(read.closeReason);
    // A proxy that only connected (a health check) gets no word.
    if (read.result != Result::Closed || read.bytesRead != 0) out.refusal = ErrorReason::BadProxyHeader;
    return out;
  }
  // The header's client, when it names one (PROXY over IPv4 or IPv6);
  // otherwise (LOCAL, UNKNOWN, an unspecified or Unix family) the socket's own peer.
  const auto& source = header->source;
  const bool named = source && source->family != ProxyAddress::Family::Unix;
  // Names are formatted only where they are used: the per-address limit
  // (the host), the logs and the console (`peer` is empty when neither is on).
  std::string host;
  if (registry.perAddressLimited()) host = named ? source->ipText() : peerOf(socket).host().toString();
  std::string client;
  if (named && !peer.empty()) {
    client = source->text();
    peer = client + " via " + peer;
  }
  if ((!host.empty() || !client.empty()) && !registry.claimClient(slot, std::move(host), std::move(client))) {
    out.refusal = ErrorReason::TooManyConnections;
    out.closeReason = "refused: too many connections from this client";
    return out;
  }
  out.ok = true;
  out.first = read.after;
  return out;
}

}  // namespace echod
