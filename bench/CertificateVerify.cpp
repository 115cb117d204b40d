// What verifying one client certificate costs OpenSSL on one thread, the
// part of a mutual-TLS handshake that plain TLS does not do (bench/tls.sh
// prints it beside the server's CPU per handshake):
//   decode: the certificate from DER, as the server receives it;
//   chain: X509_verify_cert against the client CA store (the issuer's signature, validity, purpose);
//   proof: the client's CertificateVerify, one signature check with its public key.
// Usage: cert-verify CA.pem CLIENT.pem CLIENT.key [ITERATIONS]. Prints one line
// of microseconds per certificate for each part and in all.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "cert-verify: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T* readPem(const char* path, T* (*read)(FILE*, T**, pem_password_cb*, void*)) {
  FILE* file = std::fopen(path, "r");
  if (file == nullptr) fail(std::string("cannot open ") + path);
  T* value = read(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  if (value == nullptr) fail(std::string("no PEM in ") + path);
  return value;
}

double microseconds(Clock::duration d, long n) {
  return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) fail("usage: cert-verify CA.pem CLIENT.pem CLIENT.key [ITERATIONS]");
  const long iterations = argc > 4 ? std::strtol(argv[4], nullptr, 10) : 2000;
  if (iterations < 1 || iterations > 1000000) fail("ITERATIONS: 1 to 1000000");
  X509* ca = readPem<X509>(argv[1], PEM_read_X509);
  X509* client = readPem<X509>(argv[2], PEM_read_X509);
  EVP_PKEY* key = readPem<EVP_PKEY>(argv[3], PEM_read_PrivateKey);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  unsigned char* der = nullptr;
  const int derSize = i2d_X509(client, &der);
  // The proof: a signature over a transcript hash, as TLS 1.3's CertificateVerify.
  const std::vector<unsigned char> message(64 + 33 + 1 + 48, 0x20);
  std::vector<unsigned char> signature(EVP_PKEY_get_size(key));
  std::size_t signatureSize = signature.size();
  EVP_MD_CTX* sign = EVP_MD_CTX_new();
  EVP_PKEY_CTX* signKey = nullptr;
  if (EVP_DigestSignInit(sign, &signKey, EVP_sha256(), nullptr, key) != 1 ||
      (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
       EVP_PKEY_CTX_set_rsa_padding(signKey, RSA_PKCS1_PSS_PADDING) != 1) ||
      EVP_DigestSign(sign, signature.data(), &signatureSize, message.data(), message.size()) != 1) {
    fail("cannot sign with the client's key");
  }
  EVP_MD_CTX_free(sign);

  Clock::duration decode{}, chain{}, proof{};
  for (long i = 0; i < iterations; ++i) {
    const auto t0 = Clock::now();
    const unsigned char* p = der;
    X509* received = d2i_X509(nullptr, &p, derSize);
    const auto t1 = Clock::now();
    X509_STORE_CTX* context = X509_STORE_CTX_new();
    X509_STORE_CTX_init(context, store, received, nullptr);
    X509_STORE_CTX_set_default(context, "ssl_client");
    const int verified = X509_verify_cert(context);
    X509_STORE_CTX_free(context);
    const auto t2 = Clock::now();
    EVP_MD_CTX* check = EVP_MD_CTX_new();
    EVP_PKEY_CTX* checkKey = nullptr;
    int ok = EVP_DigestVerifyInit(check, &checkKey, EVP_sha256(), nullptr, X509_get0_pubkey(received));
    if (ok == 1 && EVP_PKEY_get_base_id(X509_get0_pubkey(received)) == EVP_PKEY_RSA) {
      ok = EVP_PKEY_CTX_set_rsa_padding(checkKey, RSA_PKCS1_PSS_PADDING);
    }
    ok = ok == 1 ? EVP_DigestVerify(check, signature.data(), signatureSize, message.data(), message.size()) : 0;
    EVP_MD_CTX_free(check);
    const auto t3 = Clock::now();
    X509_free(received);
    if (verified != 1 || ok != 1) fail("the certificate or its signature did not verify");
    decode += t1 - t0;
    chain += t2 - t1;
    proof += t3 - t2;
  }
  std::printf("cert-verify %s: decode %.1f us, chain %.1f us, proof %.1f us, in all %.1f us per certificate\n",
              EVP_PKEY_get0_type_name(key), microseconds(decode, iterations), microseconds(chain, iterations),
              microseconds(proof, iterations), microseconds(decode + chain + proof, iterations));
  OPENSSL_free(der);
  X509_STORE_free(store);
  X509_free(client);
  X509_free(ca);
  EVP_PKEY_free(key);
  return 0;
}
