// libFuzzer target for the PROXY protocol header core (protocol/ProxyHeader.h).
// It checks properties, not only "no crash":
//   - the verdict does not depend on how the bytes arrive: every prefix of a
//     header is "need more", the header alone is "done" with the same length,
//     and once a prefix is bad every longer one is bad too;
//   - a header never claims more bytes than it was given, nor more than the
//     spec's limit;
//   - what was parsed, encoded again by the sender's side, parses back to the
//     same addresses.
// Input: byte 0 picks the cut points; the rest is the bytes a proxy sent.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "protocol/ProxyHeader.h"

namespace {

using echod::ProxyParse;
using echod::fuzz::check;
using Status = ProxyParse::Status;

void checkReencoded(const echod::ProxyParse& whole) {
  const echod::ProxyHeader& h = whole.header;
  if (!h.source || !h.destination || h.source->family == echod::ProxyAddress::Family::Unix) return;
  const bool roomForCrc = whole.length + 7 <= echod::kProxyHeaderMax;
  const ProxyParse v2 =
      echod::parseProxyHeader(echod::encodeProxyV2(h.source, h.destination, h.tlvs.other, roomForCrc));
  check(v2.status == Status::Done, "a re-encoded v2 header does not parse");
  check(*v2.header.source == *h.source && *v2.header.destination == *h.destination, "v2 addresses changed on the way");
  const ProxyParse v1 = echod::parseProxyHeader(echod::encodeProxyV1(h.source, h.destination));
  check(v1.status == Status::Done, "a re-encoded v1 header does not parse");
  check(*v1.header.source == *h.source && *v1.header.destination == *h.destination, "v1 addresses changed on the way");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const ProxyParse whole = echod::parseProxyHeader(input);
  check(whole.length <= input.size() && whole.length <= echod::kProxyHeaderMax, "a header longer than its bytes");
  check((whole.status == Status::Done) == (whole.length > 0), "a length without a header");

  bool sawBad = false;
  for (const std::size_t cut : echod::fuzz::cutsFor(data[0], input.size())) {
    const ProxyParse part = echod::parseProxyHeader(input.substr(0, cut));
    if (whole.status == Status::Done && cut < whole.length) {
      check(part.status == Status::NeedMore, "a prefix of a header is not 'need more'");
    }
    if (whole.status == Status::Done && cut >= whole.length) {
      check(part.status == Status::Done && part.length == whole.length, "bytes after a header changed it");
    }
    if (whole.status == Status::NeedMore)
      check(part.status == Status::NeedMore, "a prefix of an incomplete header judged");
    if (sawBad) check(part.status == Status::Bad, "bad bytes became good with more bytes");
    sawBad = part.status == Status::Bad;
    if (whole.status == Status::Bad) check(part.status != Status::Done, "a prefix of bad bytes is a header");
  }
  if (whole.status == Status::Done) {
    const ProxyParse alone = echod::parseProxyHeader(input.substr(0, whole.length));
    check(alone.status == Status::Done && alone.length == whole.length, "the header alone parses differently");
    checkReencoded(whole);
  }
  return 0;
}
