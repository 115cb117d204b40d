#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "protocol/EchoSession.h"
#include "protocol/LineFramer.h"
#include "protocol/Replies.h"

namespace echod {

/// One reply as a client sees it.
struct Reply {
  enum class Kind {
    Echo,   ///< the prefix, then a message: `text` is the message
    Fin,    ///< `FIN`: the server closes next
    Error,  ///< `ERR <reason>`: `text` is the reason; the server closes next
    Other,  ///< anything else (another prefix, a foreign server): `text` is all of it
  };
  Kind kind = Kind::Other;
  std::string_view text;
  std::string_view bytes;  ///< what arrived for it, without a line's `\n`: what a terminal prints
};

/// The client half of the echo protocol, with no I/O: the bytes the server
/// sent go in, replies come out. The server's side is EchoSession; this is
/// what the interactive client, the health probe and both load generators
/// decode replies with. After `FIN` or an `ERR` line it takes nothing more.
///
/// Line framing: every reply is a line. Raw framing has no delimiters, so the
/// reader must be told which message's echo it waits for (`expect`); bytes
/// that match neither it, `FIN` nor an `ERR` line are reported as Other.
class ReplyReader {
 public:
  /// How the server's byte stream ended, judged when the peer closed (finish()).
  enum class End { Open, Fin, Error, Closed, Broken };

  /// `maxReplySize` bounds one reply (and so the memory held): the server's
  /// longest line plus its prefix is enough.
  ReplyReader(Framing framing, std::string prefix, std::size_t maxReplySize);

  /// Raw framing: the next bytes should be the echo of `message`. Line framing ignores it.
  void expect(std::string_view message);
  /// Raw framing: whether an expected echo is still outstanding.
  bool expecting() const noexcept { return _expecting; }

  /// Calls `onReply(const Reply&)` for each complete reply in `data`, until it
  /// returns false or the stream ends with FIN or ERR. Returns the bytes consumed.
  template <typename OnReply>
  std::size_t feed(std::string_view data, OnReply&& onReply);

  /// The server closed: reports an unterminated last reply, if any, and says how the stream ended.
  template <typename OnReply>
  End finish(OnReply&& onReply);

  /// FIN or Error once such a reply arrived, Broken once a reply outgrew the bound; Open before.
  End end() const noexcept { return _end; }
  /// The reason of the ERR line (meaningful when end() is Error).
  const std::string& errorReason() const noexcept { return _errorReason; }

 private:
  Reply classifyLine(std::string_view line);
  /// Raw framing: the first reply in `_pending` and its size, or false while more bytes are needed.
  bool takeRaw(Reply& reply, std::size_t& used);

  Framing _framing;
  std::string _prefix;
  std::size_t _maxReplySize;
  LineFramer _lines;
  std::string _pending;   ///< raw framing: bytes not yet part of a reply
  std::string _expected;  ///< raw framing: prefix + the awaited message
  bool _expecting = false;
  End _end = End::Open;
  std::string _errorReason;
};

template <typename OnReply>
std::size_t ReplyReader::feed(std::string_view data, OnReply&& onReply) {
  if (_end != End::Open) return 0;
  if (_framing == Framing::Line) {
    const std::size_t used = _lines.feed(data, [&](std::string_view line) {
      const Reply reply = classifyLine(line);
      return onReply(reply) && _end == End::Open;
    });
    if (_lines.lineTooLong()) _end = End::Broken;
    return used;
  }
  _pending.append(data);
  Reply reply;
  std::size_t used = 0;
  while (_end == End::Open && takeRaw(reply, used)) {
    const bool more = onReply(reply);
    _pending.erase(0, used);
    if (!more) break;
  }
  if (_end == End::Open && _pending.size() > _maxReplySize) _end = End::Broken;
  return data.size();
}

template <typename OnReply>
ReplyReader::End ReplyReader::finish(OnReply&& onReply) {
  if (_end != End::Open) return _end;
  if (_framing == Framing::Line) {
    if (auto rest = _lines.finish()) {
      onReply(classifyLine(*rest));
      if (_end == End::Open) _end = End::Broken;  // cut off mid-line
    }
  } else if (!_pending.empty()) {
    Reply reply;
    reply.text = reply.bytes = _pending;
    onReply(reply);
    _end = End::Broken;
  }
  if (_end == End::Open) _end = End::Closed;
  return _end;
}

}  // namespace echod
