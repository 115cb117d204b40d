#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

// OpenSSL's handles, as POCO's headers declare them.
struct ssl_st;
struct ssl_ctx_st;

namespace echod::tls {

/// The TLS listeners' certificate chain and private key, and the client CAs
/// when client certificates are asked for, read again when their files change (docs/protocol.md, "Rotation"): a
/// Kubernetes Secret volume swaps a symbolic link, cert-manager rewrites the files. Every new handshake takes the set
/// in use (select(), OpenSSL's certificate callback, on the worker thread); open connections keep theirs. A set that
/// does not load keeps the old one in use. checkFiles() runs on one thread (the housekeeper's), select() on any.
class ServerCertificates {
 public:
  /// `clientCaFile` empty: no client CAs (client certificates not asked for).
  ServerCertificates(std::string certificateFile, std::string keyFile, std::string clientCaFile = {});
  ~ServerCertificates();
  ServerCertificates(const ServerCertificates&) = delete;
  ServerCertificates& operator=(const ServerCertificates&) = delete;

  /// What a look at the files found.
  struct Check {
    enum class Result { Unchanged, Loaded, Failed };
    Result result = Result::Unchanged;
    std::string why;  ///< Failed: what is wrong with the new files
  };
  /// Looks at the files (stat(2), through symbolic links); when they
  /// changed since the last look, loads them: a chain and a key that belong
  /// together replace the set in use, anything else keeps it. The first call
  /// loads the set (before it, handshakes use the context's own).
  Check checkFiles();

  /// A context whose handshakes take these sets (serverContext() calls it):
  /// its session cache is emptied whenever a new set is loaded, so that no
  /// session made under the old certificate or client CAs is resumed.
  void serve(ssl_ctx_st* context);

  /// OpenSSL's certificate callback (SSL_CTX_set_cert_cb, `arg` this object):
  /// puts the set in use on the handshake's handle (with the client CAs: the
  /// store the client's certificate is verified against, and their names for
  /// the certificate request).
  static int select(ssl_st* ssl, void* arg);

  /// Loads and failures so far, for /metrics.
  std::uint64_t loaded() const { return _loaded.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return _failed.load(std::memory_order_relaxed); }

 private:
  struct Set;
  /// What identifies a version of the files: device, inode, size, mtime of each.
  using Signature = std::array<std::int64_t, 15>;
  static constexpr std::size_t kSigned = 5;  ///< entries per file
  static bool sign(const std::string& file, std::int64_t* into);

  const std::string _certificateFile;
  const std::string _keyFile;
  const std::string _clientCaFile;
  Signature _seen{};  ///< the checking thread's alone
  bool _checked = false;
  mutable std::mutex _mutex;  ///< guards _current (a pointer copy per handshake)
  std::shared_ptr<Set> _current;
  std::vector<ssl_ctx_st*> _contexts;  ///< a reference each; set before the housekeeper starts
  std::atomic<std::uint64_t> _loaded{0};
  std::atomic<std::uint64_t> _failed{0};
};

}  // namespace echod::tls
