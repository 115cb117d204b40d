#include "protocol/EchoSession.h"

#include <algorithm>
#include <utility>

namespace echod {
namespace {

/// Raw framing: a command (`exit`, the who command) is the whole chunk, optionally followed by `\n` or `\r\n`.
std::string_view rawCommand(std::string_view chunk) {
  if (chunk.size() >= 2 && chunk.substr(chunk.size() - 2) == "\r\n") {
    chunk.remove_suffix(2);
  } else if (!chunk.empty() && chunk.back() == '\n') {
    chunk.remove_suffix(1);
  }
  return chunk;
}

}  // namespace

EchoSession::EchoSession(SessionOptions options) : _options(std::move(options)), _framer(_options.maxLineLength) {}

std::size_t EchoSession::feed(std::string_view input, std::string& out, std::size_t outLimit) {
  if (_verdict != Verdict::Continue) return 0;
  if (_options.framing == Framing::Raw) {
    std::size_t pos = 0;
    while (pos < input.size()) {
      const std::size_t size = std::min(kRawMessageSize, input.size() - pos);
      const std::string_view chunk = input.substr(pos, size);
      pos += size;
      if (!answerChunk(chunk, out) || out.size() >= outLimit) break;
    }
    return pos;
  }
  const std::size_t consumed =
      _framer.feed(input, [&](std::string_view line) { return answerLine(line, out) && out.size() < outLimit; });
  if (_framer.lineTooLong()) fail(ErrorReason::LineTooLong, out);
  return consumed;
}

void EchoSession::endOfInput(std::string& out) {
  if (_verdict != Verdict::Continue || _options.framing == Framing::Raw) return;
  if (auto last = _framer.finish()) answerLine(*last, out);
}

void EchoSession::shutdown(std::string& out) {
  if (_verdict != Verdict::Continue) return;
  out.append(_options.framing == Framing::Raw ? kFin : kFinLine);
  _verdict = Verdict::Fin;
}

void EchoSession::fail(ErrorReason reason, std::string& out) {
  if (_verdict != Verdict::Continue) return;
  out.append(errorReply(reason));
  _verdict = Verdict::Error;
  _error = reason;
}

bool EchoSession::answerLine(std::string_view line, std::string& out) {
  if (line == kExitMessage) {
    out.append(kFinLine);
    _verdict = Verdict::Fin;
    return false;
  }
  ++_echoed;
  if (!_options.whoCommand.empty() && line == _options.whoCommand) {
    out.append(_whoSource != nullptr ? _whoSource->whoReply() : _whoReply);
    out.push_back('\n');
    return afterAnswer(out);
  }
  out.append(_options.prefix);
  out.append(line);
  out.push_back('\n');
  return afterAnswer(out);
}

bool EchoSession::afterAnswer(std::string& out) {
  if (_options.maxMessages == 0 || _echoed < _options.maxMessages) return true;
  out.append(_options.framing == Framing::Raw ? kFin : kFinLine);
  _verdict = Verdict::Fin;
  _limitReached = true;
  return false;
}

bool EchoSession::answerChunk(std::string_view chunk, std::string& out) {
  const std::string_view command = rawCommand(chunk);
  if (command == kExitMessage) {
    out.append(kFin);
    _verdict = Verdict::Fin;
    return false;
  }
  ++_echoed;
  if (!_options.whoCommand.empty() && command == _options.whoCommand) {
    out.append(_whoSource != nullptr ? _whoSource->whoReply() : _whoReply);
    return afterAnswer(out);
  }
  out.append(_options.prefix);
  out.append(chunk);
  return afterAnswer(out);
}

}  // namespace echod
