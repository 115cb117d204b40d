#pragma once

#include <Poco/Net/TCPServerConnectionFactory.h>

#include "service/connection/ConnectionContext.h"
#include "service/connection/EchoWorker.h"

namespace echod {

/// Builds an EchoWorker for each socket POCO's TCPServer dispatches to a
/// pooled thread (a connection no parked worker could take at admission).
class EchoWorkerFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit EchoWorkerFactory(const ConnectionContext& context) : _context(context) {}

  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new EchoWorker(socket, _context);
  }

 private:
  const ConnectionContext& _context;
};

}  // namespace echod
