#include "protocol/Replies.h"

namespace echod {

std::string_view errorReply(ErrorReason reason) noexcept {
  switch (reason) {
    case ErrorReason::LineTooLong:
      return "ERR line too long\n";
    case ErrorReason::IdleTimeout:
      return "ERR idle timeout\n";
    case ErrorReason::ServerBusy:
      return "ERR server busy\n";
    case ErrorReason::TooManyConnections:
      return "ERR too many connections\n";
    case ErrorReason::ShuttingDown:
      return "ERR shutting down\n";
    case ErrorReason::BadProxyHeader:
      return "ERR bad proxy header\n";
    case ErrorReason::ProxyNotAllowed:
      return "ERR proxy not allowed\n";
  }
  return "ERR\n";
}

std::string_view reasonText(ErrorReason reason) noexcept {
  std::string_view reply = errorReply(reason);
  reply.remove_prefix(kErrPrefix.size());
  reply.remove_suffix(1);
  return reply;
}

}  // namespace echod
