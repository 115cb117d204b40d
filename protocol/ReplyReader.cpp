#include "protocol/ReplyReader.h"

#include <utility>

namespace echod {
namespace {

bool startsWith(std::string_view text, std::string_view head) { return text.substr(0, head.size()) == head; }

}  // namespace

ReplyReader::ReplyReader(Framing framing, std::string prefix, std::size_t maxReplySize)
    : _framing(framing), _prefix(std::move(prefix)), _maxReplySize(maxReplySize), _lines(maxReplySize) {}

void ReplyReader::expect(std::string_view message) {
  if (_framing != Framing::Raw) return;
  _expected.assign(_prefix).append(message);
  _expecting = true;
}

Reply ReplyReader::classifyLine(std::string_view line) {
  Reply reply;
  reply.bytes = line;
  reply.text = line;
  if (line == kFin) {
    reply.kind = Reply::Kind::Fin;
    _end = End::Fin;
  } else if (startsWith(line, kErrPrefix)) {
    reply.kind = Reply::Kind::Error;
    reply.text = line.substr(kErrPrefix.size());
    _errorReason.assign(reply.text);
    _end = End::Error;
  } else if (startsWith(line, _prefix)) {
    reply.kind = Reply::Kind::Echo;
    reply.text = line.substr(_prefix.size());
  }
  return reply;
}

bool ReplyReader::takeRaw(Reply& reply, std::size_t& used) {
  const std::string_view pending(_pending);
  if (pending.empty()) return false;
  if (_expecting) {
    if (pending.size() >= _expected.size() && startsWith(pending, _expected)) {
      reply.kind = Reply::Kind::Echo;
      reply.bytes = pending.substr(0, _expected.size());
      reply.text = reply.bytes.substr(_prefix.size());
      used = _expected.size();
      _expecting = false;
      return true;
    }
    if (startsWith(_expected, pending)) return false;  // the echo, still arriving
  }
  // Not the awaited echo: FIN (sent bare in raw framing), an ERR line, or something else.
  if (pending == kFin) {
    reply.kind = Reply::Kind::Fin;
    reply.text = reply.bytes = pending;
    used = pending.size();
    _end = End::Fin;
    return true;
  }
  if (startsWith(pending, kErrPrefix)) {
    const auto newline = pending.find('\n');
    if (newline == std::string_view::npos) return false;  // the rest of the line is still arriving
    reply.kind = Reply::Kind::Error;
    reply.bytes = pending.substr(0, newline);
    reply.text = reply.bytes.substr(kErrPrefix.size());
    _errorReason.assign(reply.text);
    used = newline + 1;
    _end = End::Error;
    return true;
  }
  if (startsWith(kFin, pending) || startsWith(kErrPrefix, pending)) return false;  // might become one
  reply.kind = Reply::Kind::Other;
  reply.text = reply.bytes = pending;
  used = pending.size();
  _expecting = false;
  return true;
}

}  // namespace echod
