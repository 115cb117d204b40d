#include "tls/ServerCertificates.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <limits>
#include <utility>

namespace echod::tls {
namespace {

constexpr int kMaxChain = 16;  ///< intermediates read behind the leaf, at most

int noPassphrase(char*, int, int, void*) { return 0; }

std::string lastError(const char* fallback) {
  const char* reason = ERR_reason_error_string(ERR_peek_last_error());
  std::string text = reason != nullptr ? reason : fallback;
  ERR_clear_error();
  return text;
}

}  // namespace

/// One loaded version of the files.
struct ServerCertificates::Set {
  X509* leaf = nullptr;
  STACK_OF(X509) * chain = nullptr;
  EVP_PKEY* key = nullptr;
  X509_STORE* clientCas = nullptr;                ///< what client certificates are verified against
  STACK_OF(X509_NAME) * clientCaNames = nullptr;  ///< named in the certificate request
  Set() : chain(sk_X509_new_null()) {}
  ~Set() {
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    X509_STORE_free(clientCas);
    sk_X509_NAME_pop_free(clientCaNames, X509_NAME_free);
  }
  Set(const Set&) = delete;
  Set& operator=(const Set&) = delete;
};

ServerCertificates::ServerCertificates(std::string certificateFile, std::string keyFile, std::string clientCaFile)
    : _certificateFile(std::move(certificateFile)),
      _keyFile(std::move(keyFile)),
      _clientCaFile(std::move(clientCaFile)) {}

ServerCertificates::~ServerCertificates() {
  for (SSL_CTX* context : _contexts) SSL_CTX_free(context);
}

void ServerCertificates::serve(ssl_ctx_st* context) {
  SSL_CTX_up_ref(context);
  _contexts.push_back(context);
}

bool ServerCertificates::sign(const std::string& file, std::int64_t* into) {
  struct stat s {};
  if (::stat(file.c_str(), &s) != 0) return false;
  into[0] = static_cast<std::int64_t>(s.st_dev);
  into[1] = static_cast<std::int64_t>(s.st_ino);
  into[2] = static_cast<std::int64_t>(s.st_size);
  into[3] = static_cast<std::int64_t>(s.st_mtim.tv_sec);
  into[4] = static_cast<std::int64_t>(s.st_mtim.tv_nsec);
  return true;
}

ServerCertificates::Check ServerCertificates::checkFiles() {
  Signature now{};
  const bool readable = sign(_certificateFile, now.data()) && sign(_keyFile, now.data() + kSigned) &&
                        (_clientCaFile.empty() || sign(_clientCaFile, now.data() + 2 * kSigned));
  if (_checked && now == _seen) return {};
  const bool firstLook = !_checked;
  _seen = now;
  _checked = true;

  Check check;
  auto set = std::make_shared<Set>();
  ERR_clear_error();
  if (!readable) {
    check.why =
        "cannot read " + _certificateFile + ", " + _keyFile + (_clientCaFile.empty() ? "" : " or ") + _clientCaFile;
  } else if (BIO* in = BIO_new_file(_certificateFile.c_str(), "r"); in == nullptr) {
    check.why = "cannot open " + _certificateFile;
  } else {
    set->leaf = PEM_read_bio_X509_AUX(in, nullptr, &noPassphrase, nullptr);
    for (int i = 0; set->leaf != nullptr && i < kMaxChain; ++i) {
      X509* next = PEM_read_bio_X509(in, nullptr, &noPassphrase, nullptr);
      if (next == nullptr) break;
      sk_X509_push(set->chain, next);
    }
    ERR_clear_error();  // the end of the file reads as an error
    BIO_free(in);
    if (set->leaf == nullptr) check.why = _certificateFile + " holds no PEM certificate";
  }
  if (check.why.empty()) {
    if (BIO* in = BIO_new_file(_keyFile.c_str(), "r"); in == nullptr) {
      check.why = "cannot open " + _keyFile;
    } else {
      set->key = PEM_read_bio_PrivateKey(in, nullptr, &noPassphrase, nullptr);
      BIO_free(in);
      if (set->key == nullptr) {
        check.why = _keyFile + " holds no unencrypted PEM private key (" + lastError("unreadable") + ")";
      } else if (X509_check_private_key(set->leaf, set->key) != 1) {
        ERR_clear_error();
        check.why = _keyFile + " does not belong to the certificate in " + _certificateFile;
      }
    }
  }
  if (check.why.empty() && !_clientCaFile.empty()) {
    set->clientCas = X509_STORE_new();
    set->clientCaNames = SSL_load_client_CA_file(_clientCaFile.c_str());
    if (set->clientCas == nullptr || set->clientCaNames == nullptr ||
        X509_STORE_load_file(set->clientCas, _clientCaFile.c_str()) != 1) {
      check.why = _clientCaFile + " holds no PEM CA certificate (" + lastError("unreadable") + ")";
    }
  }
  if (!check.why.empty()) {
    // The set in use stays; the next change of the files is tried again.
    _failed.fetch_add(1, std::memory_order_relaxed);
    check.result = Check::Result::Failed;
    return check;
  }
  {
    std::lock_guard<std::mutex> lock(_mutex);
    _current = std::move(set);
  }
  if (!firstLook) {
    // Sessions made under the old set would resume without its checks.
    for (SSL_CTX* context : _contexts) SSL_CTX_flush_sessions(context, std::numeric_limits<long>::max());
    _loaded.fetch_add(1, std::memory_order_relaxed);
  }
  check.result = firstLook ? Check::Result::Unchanged : Check::Result::Loaded;
  return check;
}

int ServerCertificates::select(ssl_st* ssl, void* arg) {
  auto* self = static_cast<ServerCertificates*>(arg);
  std::shared_ptr<Set> set;
  {
    std::lock_guard<std::mutex> lock(self->_mutex);
    set = self->_current;
  }
  if (!set) return 1;  // not loaded yet: the context's own
  // The handle takes its own references: the set may be replaced meanwhile.
  if (SSL_use_cert_and_key(ssl, set->leaf, set->key, set->chain, 1) != 1) return 0;
  if (set->clientCas != nullptr) {
    STACK_OF(X509_NAME)* names = SSL_dup_CA_list(set->clientCaNames);
    if (names == nullptr || SSL_set1_verify_cert_store(ssl, set->clientCas) != 1) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      return 0;
    }
    SSL_set_client_CA_list(ssl, names);  // takes them
  }
  return 1;
}

}  // namespace echod::tls
