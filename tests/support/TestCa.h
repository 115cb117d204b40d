#pragma once

#include <string>
#include <utility>
#include <vector>

// OpenSSL's certificate, as its headers declare it.
struct x509_st;

namespace echod::test {

/// A certificate authority made in memory with OpenSSL's C API (a P-256 key),
/// for certificates no command line makes: names with quotes, control bytes
/// or invalid UTF-8, validity in the past or the future, a broken signature.
/// Files go into a temporary directory removed with the object.
class TestCa {
 public:
  explicit TestCa(const std::string& commonName = "echod test CA");
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  enum class San { Dns, Ip, Uri, Email };
  struct Leaf {
    /// Subject entries in order: short name ("CN", "O") and raw bytes, set
    /// without any check: as a UTF8String when they are UTF-8, else as a
    /// T61String (OpenSSL neither writes nor reads a UTF8String that is not
    /// UTF-8, so no handshake can carry one; a T61String's bytes read as Latin-1).
    std::vector<std::pair<std::string, std::string>> subject{{"CN", "echod test client"}};
    /// subjectAltName entries: raw bytes (Ip: 4 or 16 address bytes).
    std::vector<std::pair<San, std::string>> sans;
    long notBeforeSeconds = -3600;  ///< from now
    long notAfterSeconds = 86400;   ///< from now
    long serial = 4096;
    bool badSignature = false;  ///< one bit of the signature flipped
  };

  /// A certificate this CA signed; the caller frees it (X509_free).
  x509_st* issueX509(const Leaf& leaf) const;
  /// The same as PEM files NAME.pem (the certificate) and NAME.key (its key) in the directory.
  struct Files {
    std::string certificate, key;
  };
  Files issue(const std::string& name, const Leaf& leaf) const;
  /// The CA's certificate as a PEM file.
  const std::string& caFile() const { return _caFile; }

 private:
  struct Keys;
  Keys* _keys;
  std::string _dir;
  std::string _caFile;
};

}  // namespace echod::test
