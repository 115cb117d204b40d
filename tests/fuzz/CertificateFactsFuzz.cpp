// libFuzzer target for what who shows of a client certificate
// (tls/PeerCertificate.h): any DER that OpenSSL takes as a certificate gives
// facts whose every string is valid UTF-8 and survives JSON unchanged on one
// line. Properties, not only "no crash":
//   - validUtf8 is idempotent, and keeps every byte of valid input;
//   - serial and sha256 are lowercase hex (sha256 64 digits); times RFC 3339 or empty;
//   - the SPIFFE ID is one of the URI names and starts with spiffe://; at most 64 names a kind;
//   - the facts as a POCO JSON object: one line, no raw control byte, parsed back to the same strings.
// Input: byte 0 picks the mode (even: DER certificate, odd: validUtf8 on raw bytes).
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "tls/PeerCertificate.h"

namespace {

using echod::fuzz::check;

bool lowercaseHex(const std::string& s) {
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return false;
  }
  return true;
}

void utf8(std::string_view bytes) {
  const std::string once = echod::tls::validUtf8(bytes);
  check(echod::tls::validUtf8(once) == once, "validUtf8 is idempotent");
  if (once.size() == bytes.size()) check(once == bytes, "valid input is kept as it is");
}

void certificate(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr) return;
  const echod::tls::CertificateFacts f = echod::tls::certificateFacts(cert);
  X509_free(cert);
  std::vector<const std::string*> strings{&f.subject, &f.issuer, &f.serial, &f.notBefore, &f.notAfter, &f.sha256};
  for (const auto* kind : {&f.dns, &f.ip, &f.uri, &f.email}) {
    check(kind->size() <= 64, "at most 64 names of a kind");
    for (const auto& s : *kind) strings.push_back(&s);
  }
  if (f.commonName) strings.push_back(&*f.commonName);
  for (const auto* s : strings) check(echod::tls::validUtf8(*s) == *s, "every string is valid UTF-8");
  check(lowercaseHex(f.serial), "serial in lowercase hex");
  check(f.sha256.size() == 64 && lowercaseHex(f.sha256), "sha256: 64 lowercase hex digits");
  static const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  for (const auto* t : {&f.notBefore, &f.notAfter}) {
    check(t->empty() || std::regex_match(*t, kTime), "times are RFC 3339 UTC");
  }
  if (f.spiffeId) {
    check(f.spiffeId->rfind("spiffe://", 0) == 0, "a SPIFFE ID starts with spiffe://");
    bool listed = false;
    for (const auto& u : f.uri) listed = listed || u == *f.spiffeId;
    check(listed, "the SPIFFE ID is one of the URI names");
  }
  Poco::JSON::Object object(Poco::JSON_PRESERVE_KEY_ORDER);
  Poco::JSON::Array::Ptr all = new Poco::JSON::Array;
  for (const auto* s : strings) all->add(*s);
  object.set("strings", all);
  std::ostringstream out;
  object.stringify(out);
  const std::string line = out.str();
  for (const char c : line) check(static_cast<unsigned char>(c) >= 0x20, "no raw control byte in the JSON");
  Poco::JSON::Parser parser;
  const auto back = parser.parse(line).extract<Poco::JSON::Object::Ptr>()->getArray("strings");
  check(back->size() == strings.size(), "as many strings back");
  for (std::size_t i = 0; i < strings.size(); ++i) {
    check(back->getElement<std::string>(static_cast<unsigned>(i)) == *strings[i], "each string back unchanged");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    certificate(rest);
  } else {
    utf8(rest);
  }
  return 0;
}
