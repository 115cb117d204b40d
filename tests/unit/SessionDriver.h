#pragma once

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/EchoSession.h"

namespace echod::test {

/// What a session answered to a whole conversation.
struct Transcript {
  std::string replies;
  Verdict verdict = Verdict::Continue;
};

/// Feeds `input` to a fresh session in the given pieces, as a transport would:
/// each piece is one read, then end of input if `halfClose`.
inline Transcript converse(const SessionOptions& options, const std::vector<std::string_view>& pieces,
                           bool halfClose = false) {
  EchoSession session(options);
  Transcript t;
  for (auto piece : pieces) {
    while (!piece.empty() && session.verdict() == Verdict::Continue) {
      piece.remove_prefix(session.feed(piece, t.replies));
    }
  }
  if (halfClose) session.endOfInput(t.replies);
  t.verdict = session.verdict();
  return t;
}

/// `input` as one piece, byte by byte, and in random splits (seeded, repeatable).
inline std::vector<std::vector<std::string_view>> splits(std::string_view input, unsigned seed = 42) {
  std::vector<std::vector<std::string_view>> all;
  all.push_back({input});
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  all.push_back(bytes);
  std::mt19937 random(seed);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string_view> pieces;
    std::size_t pos = 0;
    while (pos < input.size()) {
      const std::size_t size = 1 + random() % 7;
      pieces.push_back(input.substr(pos, size));
      pos += std::min(size, input.size() - pos);
    }
    all.push_back(pieces);
  }
  return all;
}

}  // namespace echod::test
