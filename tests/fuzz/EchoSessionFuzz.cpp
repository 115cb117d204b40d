// libFuzzer target for the pure protocol core (both framings). It checks
// properties, not only "no crash":
//   - line framing: the replies and verdict are the same whether the input
//     arrives whole or cut into reads at fuzzer-chosen places;
//   - no reply line is longer than prefix + maxLineLength + 1, and every
//     output line is an echo, FIN or an ERR line;
//   - the framer never holds more than maxLineLength + 1 bytes;
//   - raw framing: the output is exactly prefix + chunk per message until exit.
// Input: byte 0 picks framing and split seed; the rest is what the client sent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "protocol/EchoSession.h"

namespace {

using echod::EchoSession;
using echod::Framing;
using echod::SessionOptions;
using echod::Verdict;

using echod::fuzz::check;
using echod::fuzz::kMaxLine;
using echod::fuzz::kPrefix;

struct Outcome {
  std::string replies;
  Verdict verdict;
};

Outcome run(const SessionOptions& options, std::string_view input, const std::vector<std::size_t>& cuts,
            bool halfClose) {
  EchoSession session(options);
  Outcome o{{}, Verdict::Continue};
  std::size_t start = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : input.size();
    std::string_view piece = input.substr(start, end - start);
    start = end;
    while (!piece.empty() && session.verdict() == Verdict::Continue) {
      // As the transport does: a small output buffer, flushed after each call.
      std::string out;
      const std::size_t used = session.feed(piece, out, 256);
      check(used > 0 || session.verdict() != Verdict::Continue, "feed made no progress");
      check(out.size() < 256 + kPrefix.size() + EchoSession::kRawMessageSize + 1, "output overshot its limit");
      o.replies += out;
      piece.remove_prefix(used);
    }
  }
  if (halfClose) session.endOfInput(o.replies);
  o.verdict = session.verdict();
  return o;
}

void checkLines(const std::string& replies) {
  std::size_t pos = 0;
  while (pos < replies.size()) {
    const std::size_t nl = replies.find('\n', pos);
    check(nl != std::string::npos, "line reply without newline");
    const std::string_view line(replies.data() + pos, nl - pos);
    check(line.size() <= kPrefix.size() + kMaxLine, "reply line longer than the bound allows");
    const bool echo = line.substr(0, kPrefix.size()) == kPrefix;
    check(echo || line == "FIN" || line.substr(0, 4) == "ERR ", "reply is neither echo, FIN nor ERR");
    pos = nl + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  // Cut points chosen from the control byte: a deterministic pseudo-random walk.
  const std::vector<std::size_t> cuts = echod::fuzz::cutsFor(control, input.size());

  SessionOptions options;
  options.maxLineLength = kMaxLine;
  options.prefix = kPrefix;
  const bool halfClose = (control & 1) != 0;

  if ((control & 2) == 0) {
    options.framing = Framing::Line;
    const Outcome whole = run(options, input, {}, halfClose);
    const Outcome split = run(options, input, cuts, halfClose);
    check(whole.replies == split.replies, "line replies depend on how the input was split");
    check(whole.verdict == split.verdict, "line verdict depends on how the input was split");
    checkLines(whole.replies);
    // Bounded memory: the framer never holds more than the bound plus one.
    echod::LineFramer framer(kMaxLine);
    for (std::size_t i = 0; i < input.size() && !framer.lineTooLong(); i += 5) {
      framer.feed(input.substr(i, 5), [](std::string_view) { return true; });
      check(framer.buffered() <= kMaxLine + 1, "framer buffered more than the bound");
    }
  } else {
    options.framing = Framing::Raw;
    const Outcome raw = run(options, input, cuts, halfClose);
    // Rebuild the expected output: each read of at most 1024 bytes is one message.
    std::string expected;
    std::size_t start = 0;
    bool fin = false;
    for (std::size_t i = 0; i <= cuts.size() && !fin; ++i) {
      const std::size_t end = i < cuts.size() ? cuts[i] : input.size();
      for (std::size_t at = start; at < end && !fin; at += EchoSession::kRawMessageSize) {
        const std::string_view chunk = input.substr(at, std::min(EchoSession::kRawMessageSize, end - at));
        if (chunk == "exit" || chunk == "exit\n" || chunk == "exit\r\n") {
          expected += "FIN";
          fin = true;
        } else {
          expected += kPrefix;
          expected += chunk;
        }
      }
      start = end;
    }
    check(raw.replies == expected, "raw replies are not prefix + chunk per read");
    check(fin == (raw.verdict == Verdict::Fin), "raw verdict disagrees with exit");
  }
  return 0;
}
