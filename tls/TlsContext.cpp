#include "tls/TlsContext.h"

#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SSLException.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "protocol/Alpn.h"
#include "tls/ServerCertificates.h"

namespace echod::tls {
namespace {

constexpr long kSessionCacheSize = 4096;       ///< sessions kept for resumption, the oldest dropped first
constexpr long kSessionLifetimeSeconds = 300;  ///< how long a session may be resumed

/// Where the last handshake on this thread started, with its descriptor read
/// while the handle was certainly alive: handleOf() compares descriptors and
/// never touches a handle that may be gone.
struct LastHandshake {
  SSL* ssl = nullptr;
  int fd = -1;
};
thread_local LastHandshake t_lastHandshake;
thread_local std::string t_verificationError;
thread_local ClientRefusal t_clientRefusal;

void rememberHandshake(const SSL* ssl, int where, int /*ret*/) {
  if ((where & SSL_CB_HANDSHAKE_START) != 0) {
    // OpenSSL hands the callback a const handle to the very object it works on.
    t_lastHandshake = LastHandshake{const_cast<SSL*>(ssl), SSL_get_fd(ssl)};
  }
}

/// OpenSSL's words for a failed check, with the certificate's subject (escaped by X509_NAME_oneline).
std::string whyRefused(X509_STORE_CTX* store) {
  std::string why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
  if (X509* cert = X509_STORE_CTX_get_current_cert(store)) {
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
    why += std::string(" (certificate ") + subject + ")";
  }
  return why;
}

int recordVerification(int ok, X509_STORE_CTX* store) {
  if (ok == 0 && t_verificationError.empty()) t_verificationError = whyRefused(store);
  return ok;
}

ClientCertificateError clientErrorOf(int code) {
  switch (code) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
      return ClientCertificateError::UnknownCa;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return ClientCertificateError::Expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return ClientCertificateError::NotYetValid;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
      return ClientCertificateError::BadSignature;
    default:
      return ClientCertificateError::Invalid;
  }
}

/// The server's check of a client certificate: OpenSSL decides (and sends
/// the alert); the first failure is kept for the refusal's count and log line.
int recordClientVerification(int ok, X509_STORE_CTX* store) {
  if (ok == 0 && t_clientRefusal.error == ClientCertificateError::None) {
    t_clientRefusal.error = clientErrorOf(X509_STORE_CTX_get_error(store));
    t_clientRefusal.why = whyRefused(store);
  }
  return ok;
}

/// Encrypted keys would make OpenSSL prompt on the terminal: answer no passphrase.
int noPassphrase(char*, int, int, void*) { return 0; }

/// The server's ALPN names live in the SSL_CTX's own slot: freed with it.
void freeAlpnNames(void* /*parent*/, void* names, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/, void* /*argp*/) {
  delete static_cast<std::vector<std::string>*>(names);
}
int alpnSlot() {
  static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, &freeAlpnNames);
  return slot;
}

/// The server's choice (protocol/Alpn.h); OpenSSL sends no_application_protocol on ALERT_FATAL.
int selectAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outLength, const unsigned char* in,
               unsigned int inLength, void* arg) {
  const auto& names = *static_cast<const std::vector<std::string>*>(arg);
  const AlpnChoice choice =
      chooseAlpn(names, std::string_view(reinterpret_cast<const char*>(in), static_cast<std::size_t>(inLength)));
  if (choice.result != AlpnChoice::Result::Chosen) return SSL_TLSEXT_ERR_ALERT_FATAL;
  // Point into the server's own copy, which lives as long as the context.
  for (const auto& name : names) {
    if (name == choice.protocol) {
      *out = reinterpret_cast<const unsigned char*>(name.data());
      *outLength = static_cast<unsigned char>(name.size());
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

std::string openSslError() {
  const char* reason = ERR_reason_error_string(ERR_peek_last_error());  // null when there is none
  std::string text = reason != nullptr ? reason : "unknown error";
  ERR_clear_error();
  return text;
}

void mustBeReadable(const std::string& setting, const std::string& file) {
  if (file.empty()) throw FileError(setting, file, "no file given");
  if (::access(file.c_str(), R_OK) != 0) throw FileError(setting, file, std::strerror(errno));
}

}  // namespace

Poco::Net::Context::Ptr serverContext(const ServerOptions& o, ServerCertificates* certificates) {
  mustBeReadable(o.certificateSetting, o.certificateFile);
  mustBeReadable(o.keySetting, o.keyFile);
  const bool askClients = o.clientAuth != ClientAuth::None;
  if (askClients) mustBeReadable(o.clientCaSetting, o.clientCaFile);
  Poco::Net::Context::Params params;
  params.verificationMode = Poco::Net::Context::VERIFY_NONE;  // set below, with OpenSSL's own calls
  params.cipherList = "DEFAULT";
  Poco::Net::Context::Ptr context(new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params));
  SSL_CTX* ctx = context->sslContext();
  ERR_clear_error();
  SSL_CTX_set_default_passwd_cb(ctx, &noPassphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx, o.certificateFile.c_str()) != 1) {
    throw FileError(o.certificateSetting, o.certificateFile, "not a PEM certificate (" + openSslError() + ")");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, o.keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
    const std::string why = openSslError();
    if (why != "key values mismatch") {
      throw FileError(o.keySetting, o.keyFile, "not an unencrypted PEM private key (" + why + ")");
    }
    throw FileError(o.keySetting, o.keyFile, "does not belong to the certificate in '" + o.certificateFile + "'");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    throw FileError(o.keySetting, o.keyFile, "does not belong to the certificate in '" + o.certificateFile + "'");
  }
  // Resumption from the server's own bounded cache (TLS 1.2 session IDs,
  // TLS 1.3 stateful tickets) rather than stateless tickets: OpenSSL 3.0
  // builds each stateless ticket by encoding and decoding the whole session,
  // and with a client certificate in it that decoding costs more than
  // verifying the certificate did (docs/performance.md, "TLS beside plain").
  static constexpr unsigned char kSessionContext[] = "echod";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx, kSessionCacheSize);
  SSL_CTX_set_timeout(ctx, kSessionLifetimeSeconds);
  if (askClients) {
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.clientCaFile.c_str());
    if (names == nullptr || SSL_CTX_load_verify_locations(ctx, o.clientCaFile.c_str(), nullptr) != 1) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      throw FileError(o.clientCaSetting, o.clientCaFile, "holds no PEM CA certificate (" + openSslError() + ")");
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    const int mode = SSL_VERIFY_PEER | (o.clientAuth == ClientAuth::Require ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(ctx, mode, &recordClientVerification);
  }
  SSL_CTX_set_min_proto_version(ctx, o.minVersion == MinVersion::Tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_info_callback(ctx, &rememberHandshake);
  if (certificates != nullptr) {
    SSL_CTX_set_cert_cb(ctx, &ServerCertificates::select, certificates);
    certificates->serve(ctx);
  }
  if (!o.alpn.empty()) {
    auto names = std::make_unique<std::vector<std::string>>(o.alpn);
    SSL_CTX_set_alpn_select_cb(ctx, &selectAlpn, names.get());
    SSL_CTX_set_ex_data(ctx, alpnSlot(), names.release());
  }
  return context;
}

ClientRefusal takeClientRefusal() {
  ClientRefusal refusal;
  std::swap(refusal, t_clientRefusal);
  return refusal;
}

Poco::Net::Context::Ptr clientContext(const ClientTrust& trust, const std::string& host,
                                      const std::vector<std::string>& alpn, const ClientIdentity& identity) {
  if (!trust.caFile.empty()) mustBeReadable("--tls-ca", trust.caFile);
  Poco::Net::Context::Params params;
  params.verificationMode = trust.insecure ? Poco::Net::Context::VERIFY_NONE : Poco::Net::Context::VERIFY_STRICT;
  params.caLocation = trust.insecure ? std::string() : trust.caFile;
  params.loadDefaultCAs = !trust.insecure && trust.caFile.empty();
  params.cipherList = "DEFAULT";
  Poco::Net::Context::Ptr context;
  try {
    context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
  } catch (const Poco::Exception& e) {
    throw FileError("--tls-ca", trust.caFile, "no CA certificates could be read (" + e.message() + ")");
  }
  SSL_CTX* ctx = context->sslContext();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_info_callback(ctx, &rememberHandshake);
  if (!identity.certificateFile.empty() || !identity.keyFile.empty()) {
    mustBeReadable("--tls-certificate", identity.certificateFile);
    mustBeReadable("--tls-private-key", identity.keyFile);
    ERR_clear_error();
    SSL_CTX_set_default_passwd_cb(ctx, &noPassphrase);
    if (SSL_CTX_use_certificate_chain_file(ctx, identity.certificateFile.c_str()) != 1) {
      throw FileError("--tls-certificate", identity.certificateFile, "not a PEM certificate (" + openSslError() + ")");
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, identity.keyFile.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      throw FileError("--tls-private-key", identity.keyFile,
                      "not an unencrypted PEM private key of the certificate in '" + identity.certificateFile + "' (" +
                          openSslError() + ")");
    }
  }
  if (!alpn.empty()) {
    const std::string wire = encodeAlpn(alpn);
    // Unlike most of OpenSSL, 0 is success here.
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()));
  }
  if (!trust.insecure) {
    // OpenSSL checks the name during the handshake (RFC 6125, IP addresses
    // too); POCO's own later check resolves names through DNS, so it is off.
    context->enableExtendedCertificateVerification(false);
    X509_VERIFY_PARAM* verify = SSL_CTX_get0_param(ctx);
    Poco::Net::IPAddress literal;
    if (Poco::Net::IPAddress::tryParse(host, literal)) {
      X509_VERIFY_PARAM_set1_ip_asc(verify, host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(verify, host.c_str(), host.size());
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, &recordVerification);
  }
  return context;
}

std::string clientCertificateHint(const std::string& error) {
  if (error.find("alert certificate required") != std::string::npos) {
    return "; the server requires a client certificate (--tls-certificate, --tls-private-key)";
  }
  for (const char* alert : {"alert unknown ca", "alert certificate expired", "alert bad certificate",
                            "alert decrypt error", "alert certificate unknown", "alert unsupported certificate",
                            "alert certificate revoked", "alert access denied"}) {
    if (error.find(alert) != std::string::npos) {
      return std::string("; the server refused the client certificate (") + alert + ")";
    }
  }
  return "";
}

std::string takeVerificationError() {
  std::string error;
  error.swap(t_verificationError);
  return error;
}

ssl_st* handleOf(const Poco::Net::StreamSocket& socket) {
  const LastHandshake last = t_lastHandshake;
  if (last.ssl == nullptr || last.fd < 0 || last.fd != socket.impl()->sockfd()) return nullptr;
  return last.ssl;
}

bool sendCloseNotify(ssl_st* ssl) {
  if (ssl == nullptr) return false;
  ERR_clear_error();
  const int rc = SSL_shutdown(ssl);
  ERR_clear_error();
  return rc >= 0;
}

void clearThreadErrors() {
  ERR_clear_error();
  t_clientRefusal = ClientRefusal{};
}

SessionFacts sessionFacts(ssl_st* ssl) {
  SessionFacts facts;
  if (ssl == nullptr) return facts;
  facts.version = SSL_get_version(ssl);
  if (const char* cipher = SSL_get_cipher_name(ssl)) facts.cipher = cipher;
  if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) facts.sni = sni;
  const unsigned char* alpn = nullptr;
  unsigned int alpnLength = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpnLength);
  if (alpn != nullptr) facts.alpn.assign(reinterpret_cast<const char*>(alpn), alpnLength);
  facts.client = clientCertificate(ssl);
  return facts;
}

}  // namespace echod::tls
