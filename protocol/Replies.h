#pragma once

#include <string_view>

/// The fixed reply bytes of the echo protocol (docs/protocol.md), in one place
/// so that server, client and tests agree on them to the byte.
namespace echod {

/// Why the server ends a connection with an `ERR` line.
enum class ErrorReason {
  LineTooLong,
  IdleTimeout,
  ServerBusy,
  TooManyConnections,
  ShuttingDown,
  BadProxyHeader,   ///< the PROXY listener: no valid header in time
  ProxyNotAllowed,  ///< the PROXY listener: a peer outside echo.proxyFrom
};
/// The last ErrorReason: arrays indexed by reason are sized from it. A new
/// reason goes before it or replaces it here; the switches in Replies.cpp
/// (warnings are errors) catch one that is not handled.
inline constexpr ErrorReason kLastErrorReason = ErrorReason::ProxyNotAllowed;

/// The whole error line for a reason, `ERR <reason>\n`.
std::string_view errorReply(ErrorReason reason) noexcept;

/// The reason alone, e.g. `server busy`, for logs.
std::string_view reasonText(ErrorReason reason) noexcept;

inline constexpr std::string_view kFinLine = "FIN\n";     ///< `FIN` in line framing
inline constexpr std::string_view kFin = "FIN";           ///< `FIN` alone, as raw framing sends it
inline constexpr std::string_view kExitMessage = "exit";  ///< what asks the server to close
inline constexpr std::string_view kErrPrefix = "ERR ";    ///< how every error line starts
inline constexpr std::string_view kDefaultPrefix = "echo : ";

}  // namespace echod
