#pragma once

#include <Poco/Net/TCPServerConnectionFactory.h>

#include "service/ConnectionRegistry.h"
#include "service/EchoWorker.h"
#include "service/ServerMetrics.h"
#include "service/ServerSettings.h"

namespace echod {

/// Builds an EchoWorker for each socket TCPServer hands to a pooled thread.
class EchoConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  EchoConnectionFactory(const ServerSettings& settings, ConnectionRegistry& registry, ServerMetrics& metrics)
      : _settings(settings), _registry(registry), _metrics(metrics) {}

  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new EchoWorker(socket, _settings, _registry, _metrics);
  }

 private:
  const ServerSettings& _settings;
  ConnectionRegistry& _registry;
  ServerMetrics& _metrics;
};

}  // namespace echod
