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
#include "tls/TlsContext.h"

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

/// A string field of a who answer; "-" when it is missing, null or not a string.
std::string fieldOf(const Poco::JSON::Object::Ptr& object, const std::string& key) {
  if (object.isNull() || !object->has(key) || object->isNull(key)) return "-";
  const Poco::Dynamic::Var value = object->get(key);
  return value.isString() ? value.extract<std::string>() : value.toString();
}

/// What --by groups a who answer under: the replica (its pod, else its host
/// name), one of its fields, or one of its labels ("-" when it has none such).
std::string groupOf(const Poco::JSON::Object::Ptr& who, const std::string& by) {
  if (by == "replica") {
    const std::string pod = fieldOf(who, "pod");
    return pod != "-" ? pod : fieldOf(who, "hostname");
  }
  if (by.rfind("label:", 0) == 0) return fieldOf(who->getObject("labels"), by.substr(6));
  return fieldOf(who, by);
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
    std::cerr << "echo-client: cannot ask " << _connector.target() << ": " << e.displayText()
              << tls::clientCertificateHint(e.displayText()) << '\n';
    return kExitCannotConnect;
  } catch (const Poco::Exception& e) {
    std::cerr << "echo-client: " << _connector.target() << ": " << e.displayText()
              << tls::clientCertificateHint(e.displayText()) << '\n';
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
  result.by = _settings.spreadBy;
  for (int i = 0; i < _settings.spread; ++i) {
    try {
      const auto who = parsed(askOnce());
      if (!who) {
        result.lastError = "an answer that is not JSON (is echo.whoCommand on?)";
        continue;
      }
      ++result.replicas[groupOf(who, result.by)];
      ++result.answered;
    } catch (const Poco::Exception& e) {
      result.lastError = e.displayText();
    }
  }
  if (!_settings.expect.empty()) {
    result.checks = checkBands(_settings.expect, result.replicas, static_cast<std::uint64_t>(result.answered));
  }
  return result;
}

bool WhoProbe::Spread::ok() const {
  return answered == connections &&
         std::all_of(checks.begin(), checks.end(), [](const BandCheck& c) { return c.holds; });
}

std::string WhoProbe::Spread::text() const {
  std::ostringstream out;
  out << connections << " connections, " << answered << " answered, " << replicas.size() << ' '
      << (by == "replica" ? (replicas.size() == 1 ? "replica" : "replicas")
                          : by + (replicas.size() == 1 ? " value" : " values"))
      << '\n';
  std::size_t width = by.size();
  for (const auto& [name, count] : replicas) width = std::max(width, name.size());
  std::vector<std::pair<std::string, std::uint64_t>> rows(replicas.begin(), replicas.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  out << by << std::string(width - by.size() + 2, ' ') << "connections   share\n";
  for (const auto& [name, count] : rows) {
    const double share = answered > 0 ? 100.0 * static_cast<double>(count) / answered : 0;
    char line[64];
    std::snprintf(line, sizeof line, "%11llu  %5.1f%%  ", static_cast<unsigned long long>(count), share);
    out << name << std::string(width - name.size() + 2, ' ') << line
        << std::string(static_cast<std::size_t>(std::lround(share / 2.5)), '#') << '\n';
  }
  for (const BandCheck& check : checks) {
    char line[160];
    std::snprintf(line, sizeof line, "expect %s: %.1f%% within %g%% ~ %g: %s\n", check.band.value.c_str(), check.share,
                  check.band.percent, check.band.tolerance, check.holds ? "holds" : "OUTSIDE");
    out << line;
  }
  if (answered < connections) out << connections - answered << " unanswered; the last: " << lastError << '\n';
  return out.str();
}

std::string WhoProbe::Spread::json() const {
  std::string out = "{\"connections\": " + std::to_string(connections) + ", \"answered\": " + std::to_string(answered) +
                    ", \"by\": " + Poco::toJSON(by) + ", \"replicas\": {";
  bool first = true;
  for (const auto& [name, count] : replicas) {
    out += (first ? "" : ", ") + Poco::toJSON(name) + ": " + std::to_string(count);
    first = false;
  }
  out += "}";
  if (!checks.empty()) {
    out += ", \"expect\": [";
    for (std::size_t i = 0; i < checks.size(); ++i) {
      const BandCheck& c = checks[i];
      char numbers[160];
      std::snprintf(numbers, sizeof numbers, "\"percent\": %g, \"tolerance\": %g, \"share\": %.3f, \"holds\": %s",
                    c.band.percent, c.band.tolerance, c.share, c.holds ? "true" : "false");
      out += std::string(i == 0 ? "" : ", ") + "{\"value\": " + Poco::toJSON(c.band.value) + ", " + numbers + "}";
    }
    out += "]";
  }
  return out + "}\n";
}

}  // namespace echod
