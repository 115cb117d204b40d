#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/StreamSocket.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tls/PeerCertificate.h"

// OpenSSL's handle, as POCO's headers declare it.
struct ssl_st;

namespace echod::tls {

class ServerCertificates;

/// The oldest protocol version a listener accepts (echo.tlsMinVersion).
enum class MinVersion { Tls12, Tls13 };

/// A file named by a setting could not be used: which setting, which file, why.
struct FileError : std::runtime_error {
  FileError(const std::string& setting, const std::string& file, const std::string& why)
      : std::runtime_error(setting + " file '" + file + "': " + why) {}
};

/// Whether the server asks for client certificates (echo.tlsClientAuth).
enum class ClientAuth { None, Request, Require };

/// What a server context is made of; each file with the setting that names it, for errors.
struct ServerOptions {
  std::string certificateFile, certificateSetting;  ///< PEM chain, leaf first
  std::string keyFile, keySetting;                  ///< its unencrypted PEM private key
  MinVersion minVersion = MinVersion::Tls12;
  std::vector<std::string> alpn;  ///< names in the server's order of preference; empty: no ALPN
  ClientAuth clientAuth = ClientAuth::None;
  std::string clientCaFile, clientCaSetting;  ///< PEM bundle client certificates chain to; unless None
};

/// The server's context: the certificate chain and private key (checked to
/// belong together), at least `minVersion`, no renegotiation. With ALPN a
/// client that offers ALPN gets the first of the server's names it offered,
/// and one that offers none of them fails the handshake with the
/// no_application_protocol alert (RFC 7301). With client authentication the
/// server asks for a certificate chaining to the client CAs (naming them in
/// its request) and refuses, with OpenSSL's alert, one that does not verify;
/// with Require also a client that sends none. With `certificates` (may be
/// null), each handshake takes the set in use there (chain, key, client CAs),
/// read again when its files change; it must outlive the context's
/// handshakes. A peer that closes TCP without close_notify reads as end of
/// stream, not as an error: the server's own wake-ups (idle timeout, drain)
/// shut down the receive side, and its answer must still go out inside TLS
/// afterwards. Throws FileError naming the setting of the file at fault.
Poco::Net::Context::Ptr serverContext(const ServerOptions& options, ServerCertificates* certificates);

/// Why the server refused a client's certificate.
enum class ClientCertificateError { None, UnknownCa, Expired, NotYetValid, BadSignature, Invalid };
/// The first client certificate the server refused on this thread since the
/// last clearThreadErrors(), with OpenSSL's words and the certificate's subject.
struct ClientRefusal {
  ClientCertificateError error = ClientCertificateError::None;
  std::string why;  ///< "certificate has expired (certificate /CN=...)"
};
ClientRefusal takeClientRefusal();

/// How a client checks the server's certificate.
struct ClientTrust {
  std::string caFile;     ///< PEM file or directory of trusted CAs; empty: the system's
  bool insecure = false;  ///< no verification at all (self-signed development certificates)
};

/// The certificate a client presents, if asked (both empty: none).
struct ClientIdentity {
  std::string certificateFile;  ///< PEM chain, leaf first
  std::string keyFile;          ///< its unencrypted PEM private key
};

/// The client's context: verifies the chain and that the certificate names
/// `host` (a DNS name or an IP address), with OpenSSL's own checks, unless
/// insecure; offers `alpn` (empty: no ALPN); presents `identity` when the
/// server asks. Throws FileError for an unusable CA, certificate or key file.
Poco::Net::Context::Ptr clientContext(const ClientTrust& trust, const std::string& host,
                                      const std::vector<std::string>& alpn, const ClientIdentity& identity = {});

/// Why the last certificate check on this thread failed ("certificate has
/// expired", "hostname mismatch"), with the certificate's subject; empty when
/// none failed. Reading clears it.
std::string takeVerificationError();

/// What an OpenSSL error a client got says about its own certificate:
/// "; the server requires a client certificate (--tls-certificate,
/// --tls-private-key)" or "; the server refused the client certificate
/// (alert unknown ca)"; empty for any other error. With TLS 1.3 the server's
/// verdict comes after the client's handshake, on the first read or write.
std::string clientCertificateHint(const std::string& error);

/// The OpenSSL handle of the last TLS connection whose handshake ran on this
/// thread, if it is `socket`'s (POCO 1.11 keeps it private); null otherwise.
/// Call right after the handshake. Both contexts above record it.
ssl_st* handleOf(const Poco::Net::StreamSocket& socket);

/// Sends close_notify on `ssl` without touching the TCP connection (POCO's
/// shutdown() also shuts TCP both ways, which leaves no way to wait for the
/// peer's close). False if it could not be sent.
bool sendCloseNotify(ssl_st* ssl);

/// What a finished handshake agreed, for `who`.
struct SessionFacts {
  std::string version;                     ///< "TLSv1.3"
  std::string cipher;                      ///< "TLS_AES_256_GCM_SHA384"
  std::string sni;                         ///< the server name the client asked for; empty when none
  std::string alpn;                        ///< the application protocol agreed; empty when none
  std::optional<CertificateFacts> client;  ///< the client's certificate; none when none was presented
};
SessionFacts sessionFacts(ssl_st* ssl);

/// Empties this thread's OpenSSL error queue. A worker thread serves one
/// connection after another: an error left by the last one would make
/// OpenSSL misreport a plain end of stream on the next as a failure.
void clearThreadErrors();

}  // namespace echod::tls
