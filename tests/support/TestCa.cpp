#include "TestCa.h"

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <functional>
#include <stdexcept>

namespace echod::test {
namespace {

EVP_PKEY* newKey() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) throw std::runtime_error("TestCa: no P-256 key");
  return key;
}

void addSans(X509* certificate, const std::vector<std::pair<TestCa::San, std::string>>& sans) {
  if (sans.empty()) return;
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  for (const auto& [kind, bytes] : sans) {
    GENERAL_NAME* name = GENERAL_NAME_new();
    ASN1_STRING* value = kind == TestCa::San::Ip ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    ASN1_STRING_set(value, bytes.data(), static_cast<int>(bytes.size()));
    const int type = kind == TestCa::San::Dns   ? GEN_DNS
                     : kind == TestCa::San::Ip  ? GEN_IPADD
                     : kind == TestCa::San::Uri ? GEN_URI
                                                : GEN_EMAIL;
    GENERAL_NAME_set0_value(name, type, value);
    sk_GENERAL_NAME_push(names, name);
  }
  X509_add1_ext_i2d(certificate, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
  GENERAL_NAMES_free(names);
}

/// Whether `bytes` are all valid UTF-8, as OpenSSL reads it.
bool isUtf8(const std::string& bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  long left = static_cast<long>(bytes.size());
  while (left > 0) {
    unsigned long c = 0;
    const int n = UTF8_getc(p, static_cast<int>(left), &c);
    if (n <= 0) return false;
    p += n;
    left -= n;
  }
  return true;
}

X509* build(const X509_NAME* issuer, EVP_PKEY* issuerKey, EVP_PKEY* subjectKey, const TestCa::Leaf& leaf, bool ca) {
  X509* certificate = X509_new();
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), leaf.serial);
  X509_gmtime_adj(X509_getm_notBefore(certificate), leaf.notBeforeSeconds);
  X509_gmtime_adj(X509_getm_notAfter(certificate), leaf.notAfterSeconds);
  X509_NAME* subject = X509_NAME_new();
  for (const auto& [field, bytes] : leaf.subject) {
    // A plain string type, not MBSTRING_*: the bytes go in as they are, unchecked.
    const int type = isUtf8(bytes) ? V_ASN1_UTF8STRING : V_ASN1_T61STRING;
    X509_NAME_add_entry_by_txt(subject, field.c_str(), type, reinterpret_cast<const unsigned char*>(bytes.data()),
                               static_cast<int>(bytes.size()), -1, 0);
  }
  X509_set_subject_name(certificate, subject);
  X509_set_issuer_name(certificate, issuer != nullptr ? issuer : subject);
  X509_NAME_free(subject);
  X509_set_pubkey(certificate, subjectKey);
  if (ca) {
    X509_EXTENSION* constraints = X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(certificate, constraints, -1);
    X509_EXTENSION_free(constraints);
  }
  addSans(certificate, leaf.sans);
  X509_sign(certificate, issuerKey, EVP_sha256());
  if (leaf.badSignature) {
    const ASN1_BIT_STRING* signature = nullptr;
    X509_get0_signature(&signature, nullptr, certificate);
    // The last byte of the signature's S value: still DER, no longer S.
    auto* bits = const_cast<ASN1_BIT_STRING*>(signature);
    bits->data[bits->length - 1] ^= 0x01;
  }
  return certificate;
}

void writeFile(const std::string& path, const std::function<int(FILE*)>& write) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr || write(file) != 1) throw std::runtime_error("TestCa: cannot write " + path);
  std::fclose(file);
}

}  // namespace

struct TestCa::Keys {
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
};

TestCa::TestCa(const std::string& commonName) : _keys(new Keys), _dir(Poco::TemporaryFile::tempName()) {
  Poco::File(_dir).createDirectories();
  _keys->key = newKey();
  Leaf self;
  self.subject = {{"CN", commonName}};
  self.notAfterSeconds = 30L * 86400;
  self.serial = 1;
  _keys->certificate = build(nullptr, _keys->key, _keys->key, self, true);
  _caFile = _dir + "/ca.pem";
  writeFile(_caFile, [&](FILE* f) { return PEM_write_X509(f, _keys->certificate); });
}

TestCa::~TestCa() {
  X509_free(_keys->certificate);
  EVP_PKEY_free(_keys->key);
  delete _keys;
  try {
    Poco::File(_dir).remove(true);
  } catch (...) {
    // A temporary directory left behind is not worth failing for.
  }
}

x509_st* TestCa::issueX509(const Leaf& leaf) const {
  EVP_PKEY* key = newKey();
  X509* certificate = build(X509_get_subject_name(_keys->certificate), _keys->key, key, leaf, false);
  EVP_PKEY_free(key);
  return certificate;
}

TestCa::Files TestCa::issue(const std::string& name, const Leaf& leaf) const {
  EVP_PKEY* key = newKey();
  X509* certificate = build(X509_get_subject_name(_keys->certificate), _keys->key, key, leaf, false);
  Files files{_dir + "/" + name + ".pem", _dir + "/" + name + ".key"};
  writeFile(files.certificate, [&](FILE* f) { return PEM_write_X509(f, certificate); });
  writeFile(files.key, [&](FILE* f) { return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(certificate);
  EVP_PKEY_free(key);
  return files;
}

}  // namespace echod::test
