// The TLS certificate read again when its files change (docs/protocol.md,
// "Rotation"), as a Kubernetes Secret volume changes them: the files are
// symbolic links through "..data", which is swapped atomically to a new
// directory. New handshakes take the new set; open connections keep theirs;
// a set that does not load keeps the old one; no handshake fails while the
// files turn over under a running load.
#include <gtest/gtest.h>

#include <Poco/File.h>
#include <Poco/Net/SSLException.h>
#include <Poco/TemporaryFile.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "InProcessServer.h"
#include "TestClient.h"
#include "TlsSupport.h"
#include "service/admin/MetricsText.h"

namespace echod {
namespace {

using test::eventually;
using test::InProcessServer;
using test::TestClient;
using test::tlsPort;

/// A directory laid out as kubelet lays out a Secret volume.
class SecretVolume {
 public:
  explicit SecretVolume(const test::Certificates& first) : _dir(Poco::TemporaryFile::tempName()) {
    Poco::File(_dir).createDirectories();
    show(first);
    link("..data/tls.crt", certificate());
    link("..data/tls.key", privateKey());
  }
  ~SecretVolume() {
    try {
      Poco::File(_dir).remove(true);
    } catch (...) {
      // A temporary directory left behind is not worth failing for.
    }
  }
  SecretVolume(const SecretVolume&) = delete;
  SecretVolume& operator=(const SecretVolume&) = delete;

  std::string certificate() const { return _dir + "/tls.crt"; }
  std::string privateKey() const { return _dir + "/tls.key"; }

  /// A new version directory with these files, then ..data swapped to it in one rename(2).
  void show(const test::Certificates& set) { showFiles(set.certificate(), set.privateKey()); }
  void showFiles(const std::string& certificate, const std::string& key) {
    const std::string version = "..v" + std::to_string(++_versions);
    Poco::File(_dir + "/" + version).createDirectories();
    Poco::File(certificate).copyTo(_dir + "/" + version + "/tls.crt");
    Poco::File(key).copyTo(_dir + "/" + version + "/tls.key");
    link(version, _dir + "/..data_tmp");
    ASSERT_EQ(std::rename((_dir + "/..data_tmp").c_str(), (_dir + "/..data").c_str()), 0);
  }

 private:
  static void link(const std::string& target, const std::string& path) {
    ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0) << path;
  }
  std::string _dir;
  int _versions = 0;
};

ServerSettings rotationSettings(const SecretVolume& volume) {
  ServerSettings s = test::tlsTestSettings();
  s.tlsCertificate = volume.certificate();
  s.tlsPrivateKey = volume.privateKey();
  s.tlsReloadInterval = Poco::Timespan(0, 100 * 1000);
  return s;
}

/// Whether a handshake that trusts only `ca` succeeds now.
bool trusted(InProcessServer& server, const std::string& ca) {
  try {
    TestClient client(test::tlsConnect(tlsPort(server), ca));
    client.send("hi\n");
    return client.readLine() == "echo : hi\n";
  } catch (const Poco::Exception&) {
    return false;
  }
}

TEST(ServerTlsRotation, ASwappedSecretServesNewHandshakesAndOpenConnectionsKeepTheirs) {
  SecretVolume volume(test::devCertificates());
  InProcessServer server(rotationSettings(volume));
  TestClient open(test::tlsConnect(tlsPort(server), test::devCertificates().ca()));
  open.send("before\n");
  EXPECT_EQ(open.readLine(), "echo : before\n");
  EXPECT_FALSE(trusted(server, test::rotatedCertificates().ca()));

  volume.show(test::rotatedCertificates());
  ASSERT_TRUE(eventually([&] { return server.server().certificates()->loaded() == 1; }));
  EXPECT_TRUE(trusted(server, test::rotatedCertificates().ca()));
  EXPECT_FALSE(trusted(server, test::devCertificates().ca())) << "the old certificate is not served any more";
  open.send("after\n");
  EXPECT_EQ(open.readLine(), "echo : after\n") << "an open connection is untouched";
  const std::string metrics = metricsText(server.server());
  EXPECT_NE(metrics.find("echod_tls_certificate_reloads_total{result=\"loaded\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("echod_tls_certificate_reloads_total{result=\"failed\"} 0\n"), std::string::npos);
}

TEST(ServerTlsRotation, ASetThatDoesNotLoadKeepsTheOneInUse) {
  SecretVolume volume(test::devCertificates());
  InProcessServer server(rotationSettings(volume));
  // The rotated certificate with the old key: they do not belong together.
  volume.showFiles(test::rotatedCertificates().certificate(), test::devCertificates().privateKey());
  ASSERT_TRUE(eventually([&] { return server.server().certificates()->failed() == 1; }));
  EXPECT_TRUE(trusted(server, test::devCertificates().ca())) << "the set in use stays";
  EXPECT_EQ(server.server().certificates()->loaded(), 0U);
  // Mended: the next change loads.
  volume.show(test::rotatedCertificates());
  ASSERT_TRUE(eventually([&] { return server.server().certificates()->loaded() == 1; }));
  EXPECT_TRUE(trusted(server, test::rotatedCertificates().ca()));
  EXPECT_EQ(server.server().certificates()->failed(), 1U);
}

TEST(ServerTlsRotation, NoHandshakeFailsWhileTheFilesTurnOverUnderLoad) {
  SecretVolume volume(test::devCertificates());
  InProcessServer server(rotationSettings(volume));
  std::atomic<bool> done{false};
  std::atomic<int> handshakes{0};
  std::atomic<int> failures{0};
  std::thread load([&] {
    // Bounded: until the rotations are done, at most 2,000 handshakes.
    for (int i = 0; i < 2000 && !done.load(); ++i) {
      try {
        TestClient client(test::tlsConnect(tlsPort(server), ""));  // any certificate: both sets in turn
        client.send("x\n");
        if (client.readLine() != "echo : x\n") failures.fetch_add(1);
      } catch (const Poco::Exception&) {
        failures.fetch_add(1);
      }
      handshakes.fetch_add(1);
    }
  });
  const test::Certificates* sets[] = {&test::rotatedCertificates(), &test::devCertificates()};
  for (std::uint64_t turn = 1; turn <= 4; ++turn) {
    const int before = handshakes.load();
    volume.show(*sets[turn % 2 == 1 ? 0 : 1]);
    EXPECT_TRUE(eventually([&] { return server.server().certificates()->loaded() == turn; }));
    EXPECT_TRUE(eventually([&] { return handshakes.load() > before + 5; })) << "the load goes on";
  }
  done.store(true);
  load.join();
  EXPECT_EQ(failures.load(), 0) << "of " << handshakes.load() << " handshakes";
  EXPECT_EQ(server.server().certificates()->failed(), 0U);
}

}  // namespace
}  // namespace echod
