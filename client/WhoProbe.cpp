#include "client/WhoProbe.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSONString.h>
#include <Poco/Net/NetException.h>
#include <Poco/Stopwatch.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <sstream>

#include "protocol/ReplyReader.h"

namespace echod {
namespace {

constexpr std::size_t kWhoReplyMax = 64 * 1024;  ///< a who answer is a few hundred bytes; TLVs can add some
constexpr int kExitCannotConnect = 2;

/// The JSON object of a who answer; null when it is not one.
Poco::JSON::Object::Ptr parsed(const std::string& line) {
  try {
    Poco::JSON::Parser parser;
    return parser.parse(line).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
    return nullptr;
  } catch (const std::exception&) {
    return nullptr;
  }
}

/// The replica a who answer names: its pod, else its host name.
std::string replicaOf(const Poco::JSON::Object::Ptr& who) {
  if (who->has("pod") && !who->isNull("pod")) return who->getValue<std::string>("pod");
  if (who->has("hostname") && !who->isNull("hostname")) return who->getValue<std::string>("hostname");
  return "(unnamed)";
}

}  // namespace

std::string WhoProbe::askOnce() {
  auto socket = _connector.connect();
  const bool raw = _settings.framing == Framing::Raw;
  const std::string eol = raw ? "" : "\n";
  ReplyReader reader(Framing::Line, _settings.prefix, kWhoReplyMax);  // the answer is one line in line framing
  sendAll(socket, _settings.whoCommand + eol);
  Poco::Stopwatch clock;
  clock.start();
  std::optional<std::string> line;
  std::string rawBytes;
  char buffer[4096];
  while (!line) {
    const auto left = _settings.timeout.totalMicroseconds() - clock.elapsed();
    if (left <= 0) throw Poco::TimeoutException("no who answer");
    socket.setReceiveTimeout(Poco::Timespan(left));
    const int n = socket.receiveBytes(buffer, sizeof buffer);
    if (n <= 0) break;
    const std::string_view got(buffer, static_cast<std::size_t>(n));
    if (raw) {  // raw framing: the JSON has no newline; it is complete when it parses
      rawBytes.append(got);
      if (rawBytes.size() > kWhoReplyMax) throw Poco::DataException("a who answer over 64 KiB");
      if (parsed(rawBytes)) line = rawBytes;
      continue;
    }
    reader.feed(got, [&](const Reply& reply) {
      line = std::string(reply.bytes);
      return false;
    });
    if (reader.end() == ReplyReader::End::Broken) throw Poco::DataException("a who answer over 64 KiB");
  }
  if (!line) {
    if (!rawBytes.empty()) return rawBytes;
    throw Poco::IOException("the server closed the connection without an answer");
  }
  try {
    sendAll(socket, std::string(kExitMessage) + eol);  // a polite end; its FIN is not waited for
  } catch (const Poco::Exception&) {
    // gone already: the answer is what counts
  }
  return *line;
}

int WhoProbe::who() {
  std::string line;
  try {
    line = askOnce();
  } catch (const Poco::Net::NetException& e) {
    std::cerr << "echo-client: cannot ask " << _connector.target() << ": " << e.displayText() << '\n';
    return kExitCannotConnect;
  } catch (const Poco::Exception& e) {
    std::cerr << "echo-client: " << _connector.target() << ": " << e.displayText() << '\n';
    return 1;
  }
  std::cout << line << std::endl;
  if (!parsed(line)) {
    std::cerr << "echo-client: the answer is not JSON: is echo.whoCommand '" << _settings.whoCommand
              << "' on the server?\n";
    return 1;
  }
  return 0;
}

WhoProbe::Spread WhoProbe::spread() {
  Spread result;
  result.connections = _settings.spread;
  for (int i = 0; i < _settings.spread; ++i) {
    try {
      const auto who = parsed(askOnce());
      if (!who) {
        result.lastError = "an answer that is not JSON (is echo.whoCommand on?)";
        continue;
      }
      ++result.replicas[replicaOf(who)];
      ++result.answered;
    } catch (const Poco::Exception& e) {
      result.lastError = e.displayText();
    }
  }
  return result;
}

std::string WhoProbe::Spread::text() const {
  std::ostringstream out;
  out << connections << " connections, " << answered << " answered, " << replicas.size()
      << (replicas.size() == 1 ? " replica\n" : " replicas\n");
  std::size_t width = 7;
  for (const auto& [name, count] : replicas) width = std::max(width, name.size());
  std::vector<std::pair<std::string, int>> rows(replicas.begin(), replicas.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  out << std::string("replica") << std::string(width - 7 + 2, ' ') << "connections   share\n";
  for (const auto& [name, count] : rows) {
    const double share = answered > 0 ? 100.0 * count / answered : 0;
    char line[64];
    std::snprintf(line, sizeof line, "%11d  %5.1f%%  ", count, share);
    out << name << std::string(width - name.size() + 2, ' ') << line
        << std::string(static_cast<std::size_t>(std::lround(share / 2.5)), '#') << '\n';
  }
  if (answered < connections) out << connections - answered << " unanswered; the last: " << lastError << '\n';
  return out.str();
}

std::string WhoProbe::Spread::json() const {
  std::string out = "{\"connections\": " + std::to_string(connections) + ", \"answered\": " + std::to_string(answered) +
                    ", \"replicas\": {";
  bool first = true;
  for (const auto& [name, count] : replicas) {
    out += (first ? "" : ", ") + Poco::toJSON(name) + ": " + std::to_string(count);
    first = false;
  }
  return out + "}}\n";
}

}  // namespace echod
