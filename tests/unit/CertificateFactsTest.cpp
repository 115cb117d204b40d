// A client certificate as who and {peer_identity} show it (docs/protocol.md,
// "Client certificates"): RFC 4514 names, lowercase hex, RFC 3339
// times, subjectAltNames by kind, the SPIFFE ID; and a certificate whose
// names hold quotes, control bytes and invalid UTF-8 still gives one line of
// valid JSON. The certificates are made with OpenSSL's C API (TestCa).
#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>

#include "TestCa.h"
#include "service/core/WhoAnswer.h"
#include "tls/PeerCertificate.h"

namespace echod {
namespace {

using San = test::TestCa::San;

/// who's JSON for a TLS connection whose client presented `certificate`.
std::string whoWith(const tls::CertificateFacts& certificate) {
  ServerIdentity identity;
  identity.hostname = "replica-1";
  identity.version = "1.3.0";
  ConnectionFacts facts;
  facts.listener = "tls";
  facts.tls = tls::SessionFacts{"TLSv1.3", "TLS_AES_128_GCM_SHA256", "", "", certificate};
  return whoJson(identity, facts);
}

/// "YYYY-MM-DDTHH:MM:SSZ", checked by hand: GCC 12 warns inside <regex> under the sanitizers.
bool isRfc3339Utc(const std::string& t) {
  static const std::string kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (t.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (kShape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != kShape[i]) return false;
  }
  return true;
}

tls::CertificateFacts factsOf(const test::TestCa& ca, const test::TestCa::Leaf& leaf) {
  X509* certificate = ca.issueX509(leaf);
  tls::CertificateFacts facts = tls::certificateFacts(certificate);
  X509_free(certificate);
  return facts;
}

std::string placeholder(const tls::CertificateFacts* certificate) {
  ConnectionFacts facts;
  facts.tls = tls::SessionFacts{};
  if (certificate != nullptr) facts.tls->client = *certificate;
  return expandPlaceholders("[{peer_identity}]", ServerIdentity{}, facts);
}

TEST(CertificateFacts, AnOrdinaryClientCertificateAsWhoShowsIt) {
  test::TestCa ca("Mesh CA");
  test::TestCa::Leaf leaf;
  leaf.subject = {{"O", "example"}, {"CN", "payments"}};
  leaf.serial = 0x1F2E3D;
  leaf.sans = {{San::Dns, "payments.default.svc"},
               {San::Uri, "https://example.com/x"},
               {San::Uri, "spiffe://cluster.local/ns/default/sa/payments"},
               {San::Uri, "spiffe://second"},
               {San::Email, "ops@example.com"},
               {San::Ip, std::string("\x0a\x00\x00\x07", 4)},
               {San::Ip, std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') + "\x01"}};
  X509* certificate = ca.issueX509(leaf);
  const tls::CertificateFacts facts = tls::certificateFacts(certificate);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  X509_digest(certificate, EVP_sha256(), digest, &size);
  X509_free(certificate);
  char expectedDigest[2 * EVP_MAX_MD_SIZE + 1] = {};
  for (unsigned int i = 0; i < size; ++i) std::snprintf(expectedDigest + 2 * i, 3, "%02x", digest[i]);

  const std::string line = whoWith(facts);
  Poco::JSON::Parser parser;
  const auto who = parser.parse(line).extract<Poco::JSON::Object::Ptr>();
  const auto client = who->getObject("tls")->getObject("client");
  ASSERT_TRUE(client) << line;
  EXPECT_EQ(client->getValue<std::string>("subject"), "CN=payments,O=example") << "RFC 4514: the last RDN first";
  EXPECT_EQ(client->getValue<std::string>("issuer"), "CN=Mesh CA");
  EXPECT_EQ(client->getValue<std::string>("serial"), "1f2e3d");
  EXPECT_EQ(client->getValue<std::string>("sha256"), expectedDigest);
  EXPECT_TRUE(isRfc3339Utc(client->getValue<std::string>("not_before"))) << line;
  EXPECT_TRUE(isRfc3339Utc(client->getValue<std::string>("not_after"))) << line;
  EXPECT_LT(client->getValue<std::string>("not_before"), client->getValue<std::string>("not_after"));
  EXPECT_NE(line.find(R"("sans":{"dns":["payments.default.svc"],"ip":["10.0.0.7","2001:db8::1"],)"
                      R"("uri":["https://example.com/x","spiffe://cluster.local/ns/default/sa/payments",)"
                      R"("spiffe://second"],"email":["ops@example.com"]},)"
                      R"("spiffe_id":"spiffe://cluster.local/ns/default/sa/payments","verified":false})"),
            std::string::npos)
      << line;
  EXPECT_EQ(placeholder(&facts), "[spiffe://cluster.local/ns/default/sa/payments]");
}

TEST(CertificateFacts, QuotesControlBytesAndInvalidUtf8StillGiveOneLineOfValidJson) {
  test::TestCa ca("CA \"quoted\"\x01");
  test::TestCa::Leaf leaf;
  leaf.subject = {{"O", "a,b+c"}, {"CN", std::string("\"Mallory\"\n\x07\t caf\xC3\xA9 \xFF\xFE end")}};
  leaf.sans = {{San::Dns, std::string("evil\r\n.example\0x", 16)},
               {San::Uri, "urn:\xC0\xAF\xED\xA0\x80"},
               {San::Email, "\"q\"@example"},
               {San::Ip, "\x01\x02\x03"}};
  const tls::CertificateFacts facts = factsOf(ca, leaf);
  const std::string line = whoWith(facts);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  for (const char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20U) << "a raw control byte in " << line;
  EXPECT_EQ(tls::validUtf8(line), line) << "invalid UTF-8 in the line";
  Poco::JSON::Parser parser;
  Poco::JSON::Object::Ptr client;
  ASSERT_NO_THROW(client = parser.parse(line).extract<Poco::JSON::Object::Ptr>()->getObject("tls")->getObject("client"))
      << line;
  // RFC 4514 escapes the quotes, the comma and plus, and control bytes (\0A);
  // the T61String's bytes read as Latin-1, the way OpenSSL reads them.
  const auto subject = client->getValue<std::string>("subject");
  EXPECT_EQ(subject.find('\n'), std::string::npos);
  EXPECT_NE(subject.find("CN=\\\"Mallory\\\"\\0A\\07\\09 caf"), std::string::npos) << subject;
  EXPECT_NE(subject.find("O=a\\,b\\+c"), std::string::npos) << subject;
  EXPECT_NE(subject.find("\xC3\xBF\xC3\xBE end"), std::string::npos) << "0xFF 0xFE as Latin-1: " << subject;
  EXPECT_EQ(client->getValue<std::string>("issuer").find('\x01'), std::string::npos);
  const auto sans = client->getObject("sans");
  EXPECT_EQ(sans->getArray("dns")->getElement<std::string>(0), std::string("evil\r\n.example\0x", 16))
      << "control bytes round-trip through JSON's escapes";
  EXPECT_EQ(sans->getArray("uri")->getElement<std::string>(0),
            "urn:\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD")
      << "an overlong form and a surrogate: each byte U+FFFD";
  EXPECT_EQ(sans->getArray("email")->getElement<std::string>(0), "\"q\"@example");
  EXPECT_EQ(sans->getArray("ip")->getElement<std::string>(0), "010203") << "not an address: its bytes in hex";
  EXPECT_TRUE(client->isNull("spiffe_id"));
  // The placeholder goes into echoed lines: no control byte gets through.
  const std::string identity = placeholder(&facts);
  EXPECT_EQ(identity.find('\n'), std::string::npos);
  EXPECT_EQ(identity.rfind("[\"Mallory\"???", 0), 0U) << identity;
}

TEST(CertificateFacts, PeerIdentityIsTheSpiffeIdElseTheCommonNameElseADash) {
  test::TestCa ca;
  test::TestCa::Leaf named;
  named.subject = {{"CN", "first"}, {"O", "x"}, {"CN", "web"}};
  const auto byName = factsOf(ca, named);
  EXPECT_EQ(placeholder(&byName), "[web]") << "the last CN, the most specific";
  test::TestCa::Leaf anonymous;
  anonymous.subject = {{"O", "no common name"}};
  const auto none = factsOf(ca, anonymous);
  EXPECT_FALSE(none.commonName);
  EXPECT_EQ(placeholder(&none), "[-]");
  EXPECT_EQ(placeholder(nullptr), "[-]") << "no certificate presented";
  EXPECT_EQ(expandPlaceholders("{peer_identity}", ServerIdentity{}, ConnectionFacts{}), "-") << "not TLS";
}

TEST(CertificateFacts, ValidUtf8KeepsWhatIsValidAndReplacesEachBadByte) {
  EXPECT_EQ(tls::validUtf8("plain"), "plain");
  EXPECT_EQ(tls::validUtf8("caf\xC3\xA9 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(tls::validUtf8("\xFF"), "\xEF\xBF\xBD");
  EXPECT_EQ(tls::validUtf8("a\xC3"), "a\xEF\xBF\xBD") << "cut short";
  EXPECT_EQ(tls::validUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "overlong";
  EXPECT_EQ(tls::validUtf8("\xF4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "above U+10FFFF";
  EXPECT_EQ(tls::validUtf8(std::string("a\0b", 3)), std::string("a\0b", 3)) << "NUL is valid UTF-8";
}

}  // namespace
}  // namespace echod
