#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "protocol/LineFramer.h"
#include "protocol/Replies.h"

namespace echod {

/// How the byte stream is cut into messages (docs/protocol.md).
enum class Framing {
  Line,  ///< a message is a line ending in `\n`; the default
  Raw    ///< a message is whatever one read returned (at most 1024 bytes): the classroom protocol
};

/// The framing's name in settings and logs: `line` or `raw`.
constexpr const char* framingName(Framing framing) noexcept { return framing == Framing::Raw ? "raw" : "line"; }

/// What the transport does after a call: keep reading, or close after writing the output.
enum class Verdict {
  Continue,  ///< keep reading
  Fin,       ///< `FIN` was appended: write it, then close
  Error      ///< an `ERR` line was appended: write it, then close
};

/// Everything the protocol needs to know; filled from the settings by the caller.
struct SessionOptions {
  Framing framing = Framing::Line;
  std::string prefix{kDefaultPrefix};
  std::size_t maxLineLength = 65536;
  /// A message exactly equal to this (like `exit`) gets the who reply
  /// (setWhoReply()) instead of an echo; empty: off.
  std::string whoCommand;
  /// Once this many messages are answered, `FIN` follows the last answer and
  /// the session ends, as after `exit` (echo.maxMessagesPerConnection); 0: none.
  std::uint64_t maxMessages = 0;
};

/// What answers the who command when its answer changes from one ask to the
/// next (the transport's: a socket's TCP_INFO). Asked once per who, never per message.
class WhoSource {
 public:
  virtual ~WhoSource() = default;
  /// One line of JSON, without its newline.
  virtual std::string whoReply() = 0;
};

/// The echo protocol of one connection, with no I/O: the bytes the client sent
/// go in, the reply bytes and a verdict come out. No sockets, clocks or threads,
/// so it is tested to the byte and fuzzed. The rules are in docs/protocol.md.
class EchoSession {
 public:
  /// In raw framing one message is at most this many bytes: the transport reads no more at once.
  static constexpr std::size_t kRawMessageSize = 1024;

  explicit EchoSession(SessionOptions options);

  /// Takes received bytes and appends the replies to `out`. Stops early once the
  /// verdict is no longer Continue, or once `out` holds `outLimit` bytes or more
  /// after a reply (so the caller can write and call again); it always answers
  /// at least one message when there is a complete one. Returns the bytes consumed.
  std::size_t feed(std::string_view input, std::string& out,
                   std::size_t outLimit = std::numeric_limits<std::size_t>::max());

  /// The client half-closed: an unterminated last line is answered as if it
  /// had ended in `\n`. The caller closes afterwards.
  void endOfInput(std::string& out);

  /// The server is stopping: appends `FIN` in the framing's form.
  void shutdown(std::string& out);

  /// The transport gives up on the connection (idle timeout, drain timeout).
  void fail(ErrorReason reason, std::string& out);

  /// What answers the who command on this connection (one line of JSON,
  /// without its newline: line framing adds one, raw framing none). The
  /// transport builds it once per connection.
  void setWhoReply(std::string reply) { _whoReply = std::move(reply); }
  /// Or asked of `source` at each who (it outlives the session); null: the fixed reply.
  void setWhoSource(WhoSource* source) noexcept { _whoSource = source; }
  /// This connection's prefix, when the transport filled in its placeholders.
  void setPrefix(std::string prefix) { _options.prefix = std::move(prefix); }
  const std::string& prefix() const noexcept { return _options.prefix; }

  Verdict verdict() const noexcept { return _verdict; }
  /// Why the session ended with Error (meaningful only then).
  ErrorReason error() const noexcept { return _error; }
  /// Messages answered so far: with an echo, or the who reply.
  std::uint64_t echoed() const noexcept { return _echoed; }
  /// The session ended with FIN because it answered its maxMessages.
  bool messageLimitReached() const noexcept { return _limitReached; }

 private:
  bool answerLine(std::string_view line, std::string& out);
  bool answerChunk(std::string_view chunk, std::string& out);
  /// After a message was answered: FIN when that was the last one allowed. False when the session ended.
  bool afterAnswer(std::string& out);

  SessionOptions _options;
  LineFramer _framer;
  Verdict _verdict = Verdict::Continue;
  ErrorReason _error = ErrorReason::LineTooLong;
  std::uint64_t _echoed = 0;
  bool _limitReached = false;
  std::string _whoReply;
  WhoSource* _whoSource = nullptr;
};

}  // namespace echod
