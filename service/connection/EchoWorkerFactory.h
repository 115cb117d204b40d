#pragma once

#include <Poco/Exception.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

namespace echod {

/// The factory POCO's TCPServer must be given. It is never asked for a
/// connection: admission (AdmissionFilter) takes every accepted socket
/// before POCO's dispatcher would queue it, and a worker thread
/// (WorkerThreads) serves it as an EchoWorker. POCO's TCPServer is the
/// acceptor only, and its ThreadPool, which scans every pooled thread to hand
/// one out, starts no worker.
class EchoWorkerFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket&) override {
    throw Poco::IllegalStateException("a socket reached POCO's dispatcher: admission must take every one");
  }
};

}  // namespace echod
