// libFuzzer target for the client half of the protocol core, ReplyReader. It
// checks properties, not only "no crash":
//   - line framing: the replies and the end are the same whether the bytes
//     arrive whole or cut into reads at fuzzer-chosen places;
//   - whatever the server (EchoSession) answers to the fuzzed input, the
//     reader decodes it back to exactly the echoed lines, then FIN or ERR;
//   - the reader never holds more than its bound.
// Input: byte 0 picks the split seed; the rest is the bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "protocol/EchoSession.h"
#include "protocol/ReplyReader.h"

namespace {

using echod::Framing;
using echod::Reply;
using echod::ReplyReader;

using echod::fuzz::check;
using echod::fuzz::kMaxLine;
using echod::fuzz::kPrefix;

struct Decoded {
  std::string replies;  ///< kind letter, then the text, one per reply
  ReplyReader::End end = ReplyReader::End::Open;
};

Decoded decode(std::string_view bytes, const std::vector<std::size_t>& cuts) {
  ReplyReader reader(Framing::Line, kPrefix, kPrefix.size() + kMaxLine);
  Decoded d;
  const auto note = [&](const Reply& r) {
    d.replies += "EFXO"[static_cast<int>(r.kind)];
    d.replies.append(r.text);
    d.replies += '\n';
    return true;
  };
  std::size_t start = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : bytes.size();
    reader.feed(bytes.substr(start, end - start), note);
    start = end;
  }
  d.end = reader.finish(note);
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::vector<std::size_t> cuts = echod::fuzz::cutsFor(data[0], input.size());

  // Arbitrary bytes from a server: the split must not matter.
  const Decoded whole = decode(input, {});
  const Decoded split = decode(input, cuts);
  check(whole.replies == split.replies, "replies depend on how the bytes were split");
  check(whole.end == split.end, "the end depends on how the bytes were split");

  // What a real server answers to this input, decoded, is the input's lines.
  echod::SessionOptions options;
  options.maxLineLength = kMaxLine;
  options.prefix = kPrefix;
  echod::EchoSession session(options);
  std::string answer;
  std::string_view rest = input;
  while (!rest.empty() && session.verdict() == echod::Verdict::Continue) rest.remove_prefix(session.feed(rest, answer));
  session.endOfInput(answer);
  ReplyReader reader(Framing::Line, kPrefix, kPrefix.size() + kMaxLine);
  std::uint64_t echoes = 0;
  reader.feed(answer, [&](const Reply& r) {
    check(r.kind != Reply::Kind::Other, "a server reply decoded as foreign");
    if (r.kind == Reply::Kind::Echo) ++echoes;
    return true;
  });
  check(echoes == session.echoed(), "decoded echoes differ from the server's count");
  const auto end = reader.finish([](const Reply&) { return true; });
  const auto verdict = session.verdict();
  check(verdict != echod::Verdict::Fin || end == ReplyReader::End::Fin, "server's FIN not decoded as FIN");
  check(verdict != echod::Verdict::Error || end == ReplyReader::End::Error, "server's ERR not decoded as an error");
  check(verdict != echod::Verdict::Continue || end == ReplyReader::End::Closed, "a clean close not decoded as closed");
  return 0;
}
