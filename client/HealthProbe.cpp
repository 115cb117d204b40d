#include "client/HealthProbe.h"

#include <Poco/Exception.h>
#include <Poco/Format.h>
#include <Poco/Random.h>
#include <Poco/Stopwatch.h>

#include "client/ServerConnector.h"
#include "protocol/EchoSession.h"

namespace echod {
namespace {

/// Reads until `expected` has arrived whole, or something else, or the deadline.
/// Returns what arrived (at most expected.size() bytes more than asked for).
std::string readReply(Poco::Net::StreamSocket& socket, std::size_t expectedSize, const Poco::Stopwatch& clock,
                      Poco::Timespan timeout) {
  std::string received;
  char buffer[2048];
  while (received.size() < expectedSize) {
    const auto left = timeout.totalMicroseconds() - clock.elapsed();
    if (left <= 0) throw Poco::TimeoutException("no complete reply");
    socket.setReceiveTimeout(Poco::Timespan(left));
    const int n = socket.receiveBytes(buffer, sizeof buffer);
    if (n <= 0) break;
    received.append(buffer, static_cast<std::size_t>(n));
  }
  return received;
}

std::string printable(const std::string& bytes) {
  std::string out;
  for (const unsigned char c : bytes.substr(0, 80)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c >= 32 && c < 127) {
      out += static_cast<char>(c);
    } else {
      out += Poco::format("\\x%02x", static_cast<unsigned>(c));
    }
  }
  return out;
}

}  // namespace

bool HealthProbe::run(std::string& report) {
  const std::string target = _settings.host + ":" + std::to_string(_settings.port);
  Poco::Stopwatch clock;
  clock.start();
  try {
    auto socket = connectToServer(_settings.host, _settings.port, _settings.timeout);
    Poco::Random random;
    random.seed();
    const std::string token = Poco::format("check-%08x%08x", random.next(), random.next());
    const bool raw = _settings.framing == Framing::Raw;
    const std::string eol = raw ? "" : "\n";

    sendAll(socket, token + eol);
    const std::string expected = _settings.prefix + token + eol;
    const std::string echo = readReply(socket, expected.size(), clock, _settings.timeout);
    if (echo != expected) {
      report = "fail: " + target + " answered '" + printable(echo) + "', expected '" + printable(expected) + "'";
      return false;
    }
    sendAll(socket, std::string(kExitMessage) + eol);
    const std::string fin(raw ? kFin : kFinLine);
    const std::string bye = readReply(socket, fin.size(), clock, _settings.timeout);
    if (bye != fin) {
      report = "fail: " + target + " answered exit with '" + printable(bye) + "', expected '" + printable(fin) + "'";
      return false;
    }
    report = Poco::format("ok: %s echoed %z bytes and sent FIN in %.1f ms", target, token.size(),
                          static_cast<double>(clock.elapsed()) / 1000.0);
    return true;
  } catch (const Poco::Exception& e) {
    report = "fail: " + target + ": " + e.displayText();
    return false;
  }
}

}  // namespace echod
