#include "service/server/FaultSettings.h"

namespace echod {

std::vector<SettingSpec> FaultSettings::specs() {
  const FaultSettings d;
  return {
      {"echo.replyDelay", "reply-delay", "ECHO_REPLY_DELAY", "MS|MIN-MAX",
       "fault: no reply leaves earlier than this many ms after its message (a range: uniform per reply)", "0"},
      {"echo.replyChunk", "reply-chunk", "ECHO_REPLY_CHUNK", "BYTES",
       "fault: write each reply at most this many bytes at a time; 0 whole replies",
       defaultText(static_cast<std::int64_t>(d.faults.chunk))},
      {"echo.replyChunkInterval", "reply-chunk-interval", "ECHO_REPLY_CHUNK_INTERVAL", "MS",
       "fault: the pause between two chunks of a reply", defaultText(d.faults.chunkIntervalMs)},
      {"echo.fault", "fault", "ECHO_FAULT", "none|reset|close|hang",
       "fault: instead of a reply, reset the connection, close it with no word, or never answer again",
       faultName(d.faults.fault)},
      {"echo.faultAfter", "fault-after", "ECHO_FAULT_AFTER", "N",
       "fault: replies sent before the message that gets the fault",
       defaultText(static_cast<std::int64_t>(d.faults.faultAfter))},
      {"echo.faultShare", "fault-share", "ECHO_FAULT_SHARE", "PERCENT",
       "fault: the share of connections, drawn as a worker takes each, that get the delay, chunks and fault",
       defaultText(d.faults.sharePercent)},
  };
}

void FaultSettings::read(const SettingReader& read) {
  constexpr std::int64_t kLongestDelayMs = 3'600'000;
  const std::string delay = read.text("echo.replyDelay", "0", 32);
  const auto range = parseDelayRange(delay, kLongestDelayMs);
  if (!range) read.reject("echo.replyDelay", delay, "milliseconds, MS or MIN-MAX (MIN <= MAX <= 3600000)");
  faults.delayMinMs = range->first;
  faults.delayMaxMs = range->second;
  faults.chunk =
      static_cast<std::size_t>(read.integer("echo.replyChunk", static_cast<std::int64_t>(faults.chunk), 0, 16 << 20));
  faults.chunkIntervalMs = read.integer("echo.replyChunkInterval", faults.chunkIntervalMs, 0, 60'000);
  faults.fault = read.choice(
      "echo.fault", faults.fault,
      {{"none", FaultKind::None}, {"reset", FaultKind::Reset}, {"close", FaultKind::Close}, {"hang", FaultKind::Hang}});
  faults.faultAfter = static_cast<std::uint64_t>(
      read.integer("echo.faultAfter", static_cast<std::int64_t>(faults.faultAfter), 0, std::int64_t{1} << 40));
  faults.sharePercent = static_cast<int>(read.integer("echo.faultShare", faults.sharePercent, 0, 100));
}

}  // namespace echod
