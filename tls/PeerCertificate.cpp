#include "tls/PeerCertificate.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdint>
#include <ctime>
#include <string_view>

namespace echod::tls {
namespace {

constexpr std::size_t kMaxNamesPerKind = 64;  ///< subjectAltName entries reported per kind, at most

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xF];
  }
  return out;
}

std::string_view bytesOf(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s))};
}

/// RFC 4514, UTF-8 as it is; a name OpenSSL cannot convert to UTF-8 is
/// printed again with every byte above 0x7F escaped (\\C3\\A9), which RFC 4514 allows.
std::string rfc4514(const X509_NAME* name) {
  for (const unsigned long flags : {XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB, XN_FLAG_RFC2253}) {
    BIO* out = BIO_new(BIO_s_mem());
    if (out == nullptr) break;
    const int written = X509_NAME_print_ex(out, name, 0, flags);
    char* data = nullptr;
    const long size = BIO_get_mem_data(out, &data);
    std::string text = written >= 0 && size >= 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
    BIO_free(out);
    if (written >= 0 && validUtf8(text) == text) return text;
  }
  ERR_clear_error();
  return validUtf8("");
}

std::string rfc3339(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return "";
  std::array<char, 32> text{};
  std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text.data();
}

std::string serialOf(X509* certificate) {
  BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr);
  if (number == nullptr) return "";
  char* digits = BN_bn2hex(number);
  std::string text = digits != nullptr ? digits : "";
  OPENSSL_free(digits);
  BN_free(number);
  for (char& c : text) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  return text;
}

std::string ipOf(const ASN1_OCTET_STRING* address) {
  const std::string_view raw = bytesOf(address);
  std::array<char, INET6_ADDRSTRLEN> text{};
  const int family = raw.size() == 4 ? AF_INET : raw.size() == 16 ? AF_INET6 : 0;
  if (family == 0 || ::inet_ntop(family, raw.data(), text.data(), text.size()) == nullptr) {
    return hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());  // not an address: its bytes
  }
  return text.data();
}

void addSans(X509* certificate, CertificateFacts& facts) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return;
  const auto add = [](std::vector<std::string>& to, std::string value) {
    if (to.size() < kMaxNamesPerKind) to.push_back(std::move(value));
  };
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    switch (name->type) {
      case GEN_DNS:
        add(facts.dns, validUtf8(bytesOf(name->d.dNSName)));
        break;
      case GEN_URI:
        add(facts.uri, validUtf8(bytesOf(name->d.uniformResourceIdentifier)));
        if (!facts.spiffeId && facts.uri.back().rfind("spiffe://", 0) == 0) facts.spiffeId = facts.uri.back();
        break;
      case GEN_EMAIL:
        add(facts.email, validUtf8(bytesOf(name->d.rfc822Name)));
        break;
      case GEN_IPADD:
        add(facts.ip, ipOf(name->d.iPAddress));
        break;
      default:
        break;  // directory names, other names: not reported
    }
  }
  GENERAL_NAMES_free(names);
}

std::optional<std::string> commonNameOf(const X509_NAME* subject) {
  const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at < 0) return std::nullopt;
  int last = at;
  for (int next = at; (next = X509_NAME_get_index_by_NID(subject, NID_commonName, next)) >= 0;) last = next;
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, last));
  unsigned char* utf8 = nullptr;
  const int size = ASN1_STRING_to_UTF8(&utf8, value);
  std::string text = size >= 0 ? std::string(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(size))
                               : std::string(bytesOf(value));
  OPENSSL_free(utf8);
  ERR_clear_error();
  return validUtf8(text);
}

}  // namespace

std::string validUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  for (std::size_t i = 0; i < bytes.size();) {
    const unsigned char c = b[i];
    std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool valid = length != 0 && i + length <= bytes.size();
    for (std::size_t k = 1; valid && k < length; ++k) valid = (b[i + k] & 0xC0) == 0x80;
    if (valid && length > 1) {
      // No overlong forms, no surrogates, nothing above U+10FFFF.
      std::uint32_t cp = c & (0x7F >> length);
      for (std::size_t k = 1; k < length; ++k) cp = (cp << 6) | (b[i + k] & 0x3F);
      static constexpr std::array<std::uint32_t, 5> kLeast{0, 0, 0x80, 0x800, 0x10000};
      valid = cp >= kLeast[length] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (valid) {
      out.append(bytes.substr(i, length));
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

CertificateFacts certificateFacts(x509_st* certificate) {
  CertificateFacts facts;
  const X509_NAME* subject = X509_get_subject_name(certificate);
  facts.subject = rfc4514(subject);
  facts.issuer = rfc4514(X509_get_issuer_name(certificate));
  facts.serial = serialOf(certificate);
  facts.notBefore = rfc3339(X509_get0_notBefore(certificate));
  facts.notAfter = rfc3339(X509_get0_notAfter(certificate));
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (X509_digest(certificate, EVP_sha256(), digest.data(), &size) == 1) facts.sha256 = hex(digest.data(), size);
  addSans(certificate, facts);
  facts.commonName = commonNameOf(subject);
  ERR_clear_error();
  return facts;
}

std::optional<CertificateFacts> clientCertificate(ssl_st* ssl) {
  if (ssl == nullptr) return std::nullopt;
  X509* certificate = SSL_get0_peer_certificate(ssl);
  if (certificate == nullptr) return std::nullopt;
  CertificateFacts facts = certificateFacts(certificate);
  facts.verified = SSL_get_verify_result(ssl) == X509_V_OK;
  return facts;
}

}  // namespace echod::tls
