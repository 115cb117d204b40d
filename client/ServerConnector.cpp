#include "client/ServerConnector.h"

#include <Poco/Net/DNS.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <sys/socket.h>

#include <random>

#include "tls/TlsContext.h"

namespace echod {

namespace {

/// One of the host's addresses, picked at random: a service name with several
/// replicas behind it (Compose, Kubernetes) then spreads connections over all
/// of them. getaddrinfo's own ordering would send every connection to one.
Poco::Net::SocketAddress pickAddress(const std::string& host, std::uint16_t port) {
  Poco::Net::IPAddress literal;
  if (Poco::Net::IPAddress::tryParse(host, literal)) return Poco::Net::SocketAddress(literal, port);
  const auto addresses = Poco::Net::DNS::resolve(host).addresses();
  if (addresses.empty()) return Poco::Net::SocketAddress(host, port);
  thread_local std::minstd_rand random(std::random_device{}());
  return Poco::Net::SocketAddress(addresses[random() % addresses.size()], port);
}

}  // namespace

ServerConnector::ServerConnector(const ClientSettings& settings) : _settings(settings) {
  if (!settings.tls) return;
  try {
    _context = tls::clientContext(tls::ClientTrust{settings.tlsCa, settings.tlsInsecure}, settings.host);
  } catch (const tls::FileError& e) {
    throw SettingsError(e.what());
  }
}

std::string ServerConnector::target() const {
  return _settings.host + ":" + std::to_string(_settings.port) + (tls() ? " (TLS)" : "");
}

Poco::Net::StreamSocket ServerConnector::connect() const {
  const Poco::Net::SocketAddress address = pickAddress(_settings.host, _settings.port);
  Poco::Net::StreamSocket socket(address.family());
  socket.connect(address, _settings.timeout);
  socket.setNoDelay(true);
  if (!tls()) return socket;
  // The handshake waits at most the timeout for each step (POCO may wait
  // twice that in all): a server that accepts but never answers TLS cannot
  // hang the client.
  socket.setReceiveTimeout(_settings.timeout);
  socket.setSendTimeout(_settings.timeout);
  tls::takeVerificationError();
  try {
    Poco::Net::SecureStreamSocket secure = Poco::Net::SecureStreamSocket::attach(socket, _settings.host, _context);
    secure.setReceiveTimeout(Poco::Timespan(0));
    secure.setSendTimeout(Poco::Timespan(0));
    return secure;
  } catch (const Poco::Exception& e) {
    const std::string refused = tls::takeVerificationError();
    if (!refused.empty()) {
      throw Poco::Net::CertificateValidationException(
          "the server's certificate was refused: " + refused +
          " (--tls-ca names the CA to trust; --tls-insecure skips the check)");
    }
    if (dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr) {
      throw Poco::TimeoutException("no TLS handshake from the server (is it a TLS port?)");
    }
    throw Poco::Net::SSLException("TLS handshake failed: " + e.message());
  }
}

void sendAll(Poco::Net::StreamSocket& socket, std::string_view bytes) {
  while (!bytes.empty()) {
    const int sent = socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()), MSG_NOSIGNAL);
    if (sent <= 0) throw Poco::TimeoutException("the server stopped reading");
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

}  // namespace echod
