#include "service/AdmissionFilter.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <sys/socket.h>

#include <array>

namespace echod {
namespace {

constexpr int kDiscardLimit = 64 * 1024;  ///< unread input dropped before closing a refused socket

void refuse(Poco::Net::StreamSocket socket, ErrorReason reason) {
  const std::string_view reply = errorReply(reason);
  try {
    // A fresh socket's send buffer is empty: this write does not block.
    socket.sendBytes(reply.data(), static_cast<int>(reply.size()), MSG_NOSIGNAL);
    socket.shutdownSend();
    // Unread input would turn our close into a RST racing the reply.
    socket.setBlocking(false);
    std::array<char, 4096> sink{};
    for (int total = 0; total < kDiscardLimit;) {
      const int n = socket.receiveBytes(sink.data(), static_cast<int>(sink.size()));
      if (n <= 0) break;
      total += n;
    }
  } catch (const Poco::Exception&) {
    // Nothing more to read (would block), or the peer is gone already.
  }
}

}  // namespace

bool AdmissionFilter::accept(const Poco::Net::StreamSocket& socket) {
  std::optional<ErrorReason> refusal;
  try {
    refusal = _registry.admit(socket);
  } catch (const Poco::Exception& e) {
    Poco::Logger::get("echod.server").debug("dropped a connection gone before admission: %s", e.displayText());
    return false;
  }
  if (!refusal) return true;
  refuse(socket, *refusal);
  _metrics.count(_metrics.refused[ServerMetrics::slot(*refusal)]);
  // One line a second at most: a connect flood must not become a log flood.
  ++_refusedSinceLog;
  if (_lastLog.isElapsed(1000000)) {
    Poco::Logger::get("echod.server")
        .warning("refused %z connection(s) in the last second, latest: %s", _refusedSinceLog,
                 std::string(reasonText(*refusal)));
    _refusedSinceLog = 0;
    _lastLog.update();
  }
  return false;
}

}  // namespace echod
