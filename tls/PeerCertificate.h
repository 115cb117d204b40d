#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// OpenSSL's types, as its headers declare them.
struct x509_st;
struct ssl_st;

namespace echod::tls {

/// What a certificate says, for `who` (docs/protocol.md, "Client certificates").
/// Every string is valid UTF-8 whatever the certificate holds: an invalid
/// byte reads as U+FFFD, so the JSON it goes into stays valid.
struct CertificateFacts {
  std::string subject;  ///< RFC 4514: "CN=client,O=example" (quotes, controls and the like escaped)
  std::string issuer;
  std::string serial;     ///< lowercase hex
  std::string notBefore;  ///< RFC 3339 UTC: "2026-12-04T20:00:00Z"
  std::string notAfter;
  std::string sha256;                            ///< of the DER encoding, lowercase hex
  std::vector<std::string> dns, ip, uri, email;  ///< subjectAltName by kind, in order
  std::optional<std::string> spiffeId;           ///< the first URI name that starts with spiffe://
  std::optional<std::string> commonName;         ///< the subject's (last) CN
  bool verified = false;                         ///< the server verified it against its client CAs
};

/// The facts of `certificate` (not verified: that is the handshake's to say).
CertificateFacts certificateFacts(x509_st* certificate);

/// The certificate the client presented on `ssl`, verified or not; none when it presented none.
std::optional<CertificateFacts> clientCertificate(ssl_st* ssl);

/// `bytes` as valid UTF-8: each byte that starts no valid sequence becomes U+FFFD.
std::string validUtf8(std::string_view bytes);

}  // namespace echod::tls
