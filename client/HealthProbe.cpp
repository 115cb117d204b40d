#include "client/HealthProbe.h"

#include <Poco/Exception.h>
#include <Poco/Format.h>
#include <Poco/Random.h>
#include <Poco/Stopwatch.h>

#include <optional>

#include "client/ServerConnector.h"
#include "protocol/ReplyReader.h"

namespace echod {
namespace {

/// One decoded reply, kept past the read buffer it came from.
struct Received {
  Reply::Kind kind = Reply::Kind::Other;
  std::string bytes;
};

/// Reads until the reader has a reply, the server closed, or the deadline passed.
Received nextReply(Poco::Net::StreamSocket& socket, ReplyReader& reader, const Poco::Stopwatch& clock,
                   const Poco::Timespan& timeout) {
  std::optional<Received> got;
  const auto keep = [&](const Reply& reply) {
    if (!got) got = Received{reply.kind, std::string(reply.bytes)};
    return false;  // one at a time: the probe has at most one in flight
  };
  char buffer[2048];
  while (!got) {
    const auto left = timeout.totalMicroseconds() - clock.elapsed();
    if (left <= 0) throw Poco::TimeoutException("no complete reply");
    socket.setReceiveTimeout(Poco::Timespan(left));
    const int n = socket.receiveBytes(buffer, sizeof buffer);
    if (n <= 0) {
      reader.finish(keep);
      if (!got) throw Poco::IOException("the server closed the connection");
      break;
    }
    reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)), keep);
  }
  return *got;
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
  const std::string target = _connector.target();
  Poco::Stopwatch clock;
  clock.start();
  try {
    auto socket = _connector.connect();
    Poco::Random random;
    random.seed();
    const std::string token = Poco::format("check-%08x%08x", random.next(), random.next());
    const bool raw = _settings.framing == Framing::Raw;
    const std::string eol = raw ? "" : "\n";

    ReplyReader reader(_settings.framing, _settings.prefix, _settings.prefix.size() + 1024);
    reader.expect(token);
    sendAll(socket, token + eol);
    const std::string expected = _settings.prefix + token;
    const Received echo = nextReply(socket, reader, clock, _settings.timeout);
    if (echo.kind != Reply::Kind::Echo || echo.bytes != expected) {
      report = "fail: " + target + " answered '" + printable(echo.bytes) + "', expected '" + printable(expected) + "'";
      return false;
    }
    sendAll(socket, std::string(kExitMessage) + eol);
    const Received bye = nextReply(socket, reader, clock, _settings.timeout);
    if (bye.kind != Reply::Kind::Fin) {
      report = "fail: " + target + " answered exit with '" + printable(bye.bytes) + "', expected 'FIN'";
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
