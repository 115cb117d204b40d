#include "client/ServerConnector.h"

#include <Poco/Net/DNS.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <sys/socket.h>

#include <algorithm>
#include <array>
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
    _context =
        tls::clientContext(tls::ClientTrust{settings.tlsCa, settings.tlsInsecure}, settings.serverName(),
                           settings.tlsAlpn, tls::ClientIdentity{settings.tlsCertificate, settings.tlsPrivateKey});
  } catch (const tls::FileError& e) {
    throw SettingsError(e.what());
  }
}

std::string ServerConnector::proxyHeader(Poco::Net::StreamSocket& socket,
                                         const Poco::Net::SocketAddress& server) const {
  // The header names the client (--proxy-source, else this socket) and the server it reached.
  const auto asProxyAddress = [](const Poco::Net::SocketAddress& a) {
    return ProxyAddress::fromText(a.host().toString(), a.port());
  };
  auto source = _settings.proxySource ? _settings.proxySource : asProxyAddress(socket.address());
  auto destination = asProxyAddress(server);
  // A header names one family: an IPv4 address beside an IPv6 one is written IPv4-mapped (::ffff:a.b.c.d).
  const auto mapped = [](std::optional<ProxyAddress>& a) {
    if (!a || a->family != ProxyAddress::Family::Inet) return;
    std::array<std::uint8_t, 16> ip{};
    ip[10] = ip[11] = 0xFF;
    std::copy(a->ip.begin(), a->ip.begin() + 4, ip.begin() + 12);
    a = ProxyAddress::inet6(ip, a->port);
  };
  if (source && destination && source->family != destination->family) {
    mapped(source);
    mapped(destination);
  }
  return _settings.proxyProtocol == ClientSettings::Proxy::V1 ? encodeProxyV1(source, destination)
                                                              : encodeProxyV2(source, destination);
}

std::string ServerConnector::target() const {
  return _settings.host + ":" + std::to_string(_settings.port) + (tls() ? " (TLS)" : "");
}

Poco::Net::StreamSocket ServerConnector::connect(std::string_view first) const {
  const Poco::Net::SocketAddress address = pickAddress(_settings.host, _settings.port);
  Poco::Net::StreamSocket socket(address.family());
  socket.connect(address, _settings.timeout);
  socket.setNoDelay(true);
  if (_settings.proxyProtocol != ClientSettings::Proxy::Off) {
    std::string header = proxyHeader(socket, address);
    // The header and the first bytes in one write; a header alone gets
    // MSG_MORE, so it waits for the next bytes sent (the TLS ClientHello, or
    // the kernel's 200 ms) and still leaves with them in one segment.
    const bool alone = tls() || first.empty();
    if (!alone) {
      header += first;
      first = {};
    }
    sendAll(socket, header, alone ? MSG_MORE : 0);
  }
  if (!tls()) {
    sendAll(socket, first);
    return socket;
  }
  // The handshake waits at most the timeout for each step (POCO may wait
  // twice that in all): a server that accepts but never answers TLS cannot
  // hang the client.
  socket.setReceiveTimeout(_settings.timeout);
  socket.setSendTimeout(_settings.timeout);
  tls::takeVerificationError();
  try {
    // RFC 6066: an IP address is never sent as a server name (OpenSSL checks
    // the certificate against it all the same: clientContext).
    Poco::Net::IPAddress literal;
    const bool named = !Poco::Net::IPAddress::tryParse(_settings.serverName(), literal);
    Poco::Net::SecureStreamSocket secure =
        named ? Poco::Net::SecureStreamSocket::attach(socket, _settings.serverName(), _context)
              : Poco::Net::SecureStreamSocket::attach(socket, _context);
    secure.setReceiveTimeout(Poco::Timespan(0));
    secure.setSendTimeout(Poco::Timespan(0));
    sendAll(secure, first);
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
    if (e.message().find("no application protocol") != std::string::npos) {
      throw Poco::Net::SSLException(
          "TLS handshake failed: the server takes none of the ALPN protocols offered (--tls-alpn), alert "
          "no_application_protocol");
    }
    throw Poco::Net::SSLException("TLS handshake failed: " + e.message() + tls::clientCertificateHint(e.message()));
  }
}

void sendAll(Poco::Net::StreamSocket& socket, std::string_view bytes, int flags) {
  while (!bytes.empty()) {
    const int sent = socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()), MSG_NOSIGNAL | flags);
    if (sent <= 0) throw Poco::TimeoutException("the server stopped reading");
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

}  // namespace echod
