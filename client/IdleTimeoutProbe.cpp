#include "client/IdleTimeoutProbe.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include "protocol/Rollout.h"

namespace echod {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kSaidMax = 256;  ///< of what the server said instead of an echo, kept

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

Poco::Timespan until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
  return Poco::Timespan(std::max<long long>(left, 1));
}

/// How a read on a probe ended.
enum class Read { Echoed, Fin, Reset, Timeout };

const char* howOf(Read read) { return read == Read::Fin ? "fin" : read == Read::Reset ? "reset" : "timeout"; }

/// A reset, or a connection gone some other way (a TLS record cut short: closed in order at the TCP level).
Read brokenBy(const Poco::Exception& e) {
  if (dynamic_cast<const Poco::Net::SSLConnectionUnexpectedlyClosedException*>(&e) != nullptr) return Read::Fin;
  if (dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr) return Read::Timeout;
  return Read::Reset;
}

/// Reads until `expected` has arrived (Echoed), the connection ends, or the
/// deadline passes. Bytes that are not the echo go to `said`.
Read readEcho(Poco::Net::StreamSocket& socket, const std::string& expected, Clock::time_point deadline,
              std::string& said) {
  std::string got;
  char buffer[2048];
  for (;;) {
    if (Clock::now() >= deadline) return Read::Timeout;
    try {
      if (!socket.poll(until(deadline), Poco::Net::Socket::SELECT_READ)) continue;
      const int n = socket.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) return Read::Fin;
      got.append(buffer, static_cast<std::size_t>(n));
    } catch (const Poco::Exception& e) {
      return brokenBy(e);
    }
    if (got.size() >= expected.size() && got.compare(0, expected.size(), expected) == 0) return Read::Echoed;
    if (expected.compare(0, got.size(), got) != 0) {
      // Not the echo (an ERR line, say): keep what fits, and wait for the end.
      said.append(got.substr(0, kSaidMax - std::min(kSaidMax, said.size())));
      got.clear();
    }
  }
}

std::string seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f s", s);
  return text;
}

std::string printable(const std::string& bytes) {
  std::string out;
  for (const unsigned char c : bytes) {
    if (c == '\n') {
      out += "\\n";
    } else if (c >= 32 && c < 127) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

/// The longest silence answered, the shortest not (and how it ended), the earliest close seen.
void summarize(IdleTimeoutProbe::Result& result) {
  result.survived = 0;
  result.died.reset();
  result.closedAfter.reset();
  for (const auto& probe : result.probes) {
    if (!probe.started) continue;
    if (probe.survived) {
      result.survived = std::max(result.survived, probe.silence);
      continue;
    }
    if (!result.died || probe.silence < *result.died) {
      result.died = probe.silence;
      result.how = probe.how;
    }
    if (probe.closedAfter && (!result.closedAfter || *probe.closedAfter < *result.closedAfter)) {
      result.closedAfter = probe.closedAfter;
    }
  }
}

}  // namespace

void IdleTimeoutProbe::runOne(Probe& probe, int id) {
  const std::string eol = _settings.framing == Framing::Raw ? "" : "\n";
  const std::string message = "idle-probe " + std::to_string(id);
  const std::string expected = _settings.prefix + message + eol;
  Poco::Net::StreamSocket socket;
  try {
    socket = _connector.connect();
  } catch (const Poco::Exception& e) {
    probe.error = "cannot connect: " + e.displayText();
    return;
  }
  probe.connected = true;
  // One echo first: the silence counts from a reply that proves the path works.
  try {
    sendAll(socket, message + eol);
  } catch (const Poco::Exception& e) {
    probe.error = "cannot send: " + e.displayText();
    return;
  }
  std::string said;
  const auto timeout = std::chrono::microseconds(_settings.timeout.totalMicroseconds());
  if (const Read first = readEcho(socket, expected, Clock::now() + timeout, said); first != Read::Echoed) {
    probe.error = "no echo of its first message (" + std::string(howOf(first)) + ")" +
                  (said.empty() ? std::string() : ": " + printable(said));
    return;
  }
  probe.started = true;
  // The silence: only watch for the connection being closed on us.
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(probe.silence));
  char buffer[1024];
  while (Clock::now() < end) {
    try {
      if (!socket.poll(until(end), Poco::Net::Socket::SELECT_READ)) continue;
      const int n = socket.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) {
        probe.how = "fin";
        probe.closedAfter = secondsSince(start);
        return;
      }
      probe.said.append(
          std::string(buffer, static_cast<std::size_t>(n)).substr(0, kSaidMax - std::min(kSaidMax, probe.said.size())));
    } catch (const Poco::Exception& e) {
      probe.how = howOf(brokenBy(e));
      probe.closedAfter = secondsSince(start);
      return;
    }
  }
  try {
    sendAll(socket, message + eol);
  } catch (const Poco::Exception&) {
    probe.how = "reset";
    return;
  }
  const auto wait = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kAnswerWaitSeconds));
  const Read answer = readEcho(socket, expected, Clock::now() + wait, probe.said);
  probe.survived = answer == Read::Echoed;
  if (!probe.survived) probe.how = howOf(answer);
  try {
    if (probe.survived) sendAll(socket, std::string(kExitMessage) + eol);  // a polite end
  } catch (const Poco::Exception&) {
    // gone already: the answer is what counts
  }
}

void IdleTimeoutProbe::runRound(const std::vector<double>& silences, Result& result) {
  if (silences.empty()) return;
  std::cerr << "echo-client: " << silences.size() << " connections silent for " << seconds(silences.front()) << " to "
            << seconds(silences.back()) << '\n';
  std::vector<Probe> probes(silences.size());
  for (std::size_t i = 0; i < silences.size(); ++i) probes[i].silence = silences[i];
  std::vector<std::thread> threads;
  threads.reserve(probes.size());
  const int first = static_cast<int>(result.probes.size());
  for (std::size_t i = 0; i < probes.size(); ++i) {
    threads.emplace_back([this, &probes, i, first] { runOne(probes[i], first + static_cast<int>(i) + 1); });
  }
  for (auto& thread : threads) thread.join();
  result.probes.insert(result.probes.end(), probes.begin(), probes.end());
}

IdleTimeoutProbe::Result IdleTimeoutProbe::run() {
  Result result;
  result.max = _settings.findIdleTimeout;
  const IdleTimeoutSearch search(result.max);
  runRound(search.firstRound(), result);
  const bool anyStarted =
      std::any_of(result.probes.begin(), result.probes.end(), [](const Probe& p) { return p.started; });
  if (!anyStarted) {
    result.cannotStart = true;
    result.cannotConnect =
        std::none_of(result.probes.begin(), result.probes.end(), [](const Probe& p) { return p.connected; });
    result.whyNot = result.probes.empty() ? "no probe" : result.probes.front().error;
    return result;
  }
  summarize(result);
  runRound(search.secondRound(result.survived, result.died), result);
  summarize(result);
  return result;
}

std::string IdleTimeoutProbe::Result::text() const {
  std::ostringstream out;
  if (!died) {
    out << "no idle timeout up to " << seconds(max) << ": every silent connection was answered\n";
  } else {
    out << "idle timeout between " << seconds(survived) << " (the longest silence answered) and " << seconds(*died)
        << " (the shortest not), ended by " << how << '\n';
    if (closedAfter) out << "silent connections were closed from " << seconds(*closedAfter) << " into their silence\n";
  }
  out << "  silence    result\n";
  std::vector<Probe> sorted = probes;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Probe& a, const Probe& b) { return a.silence < b.silence; });
  for (const Probe& p : sorted) {
    char line[32];
    std::snprintf(line, sizeof line, "%9.3f s  ", p.silence);
    out << line;
    if (!p.started) {
      out << "not started: " << p.error << '\n';
      continue;
    }
    out << (p.survived ? std::string("answered") : p.how);
    if (p.closedAfter) out << ", closed " << seconds(*p.closedAfter) << " into its silence";
    if (!p.said.empty()) out << ", the server said \"" << printable(p.said) << '"';
    out << '\n';
  }
  return out.str();
}

std::string IdleTimeoutProbe::Result::json() const {
  Poco::JSON::Object out(Poco::JSON_PRESERVE_KEY_ORDER);
  const auto orNull = [](const std::optional<double>& v) { return v ? Poco::Dynamic::Var(*v) : Poco::Dynamic::Var(); };
  out.set("max_s", max);
  out.set("survived_s", survived);
  out.set("died_s", orNull(died));
  out.set("how", died ? Poco::Dynamic::Var(how) : Poco::Dynamic::Var());
  out.set("closed_after_s", orNull(closedAfter));
  Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
  for (const Probe& p : probes) {
    Poco::JSON::Object::Ptr probe = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    probe->set("silence_s", p.silence);
    probe->set("started", p.started);
    probe->set("survived", p.survived);
    probe->set("how", p.started && !p.survived ? Poco::Dynamic::Var(p.how) : Poco::Dynamic::Var());
    probe->set("closed_after_s", orNull(p.closedAfter));
    probe->set("said", p.said.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(p.said));
    if (!p.started) probe->set("error", p.error);
    list->add(probe);
  }
  out.set("probes", list);
  std::ostringstream text;
  out.stringify(text);
  return text.str() + "\n";
}

}  // namespace echod
