#pragma once

#include <Poco/Formatter.h>
#include <Poco/Message.h>

#include <string>

namespace echod {

/// --log-format=json: one JSON object per line, for log pipelines:
/// {"time":"2026-01-01T00:00:00.000Z","level":"information","logger":"echod.server","message":"..."}
class JsonLogFormatter : public Poco::Formatter {
 public:
  void format(const Poco::Message& message, std::string& text) override;
};

}  // namespace echod
