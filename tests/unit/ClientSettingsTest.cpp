#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>

#include "client/ClientSettings.h"

namespace echod {
namespace {

TEST(ClientSettings, DefaultsToInteractiveOnLocalhost) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  const auto s = ClientSettings::fromConfig(*config);
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_EQ(s.port, 4567);
  EXPECT_EQ(s.mode, ClientMode::Interactive);
  EXPECT_EQ(s.timeout.totalMilliseconds(), 2000);
  EXPECT_EQ(s.duration.totalSeconds(), 5);
}

TEST(ClientSettings, SendMessagesKeepTheirOrder) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.send.0", "first");
  config->setString("client.send.1", "${not expanded}");
  config->setInt("client.send.count", 2);
  const auto s = ClientSettings::fromConfig(*config);
  EXPECT_EQ(s.mode, ClientMode::Scripted);
  EXPECT_EQ(s.messages, (std::vector<std::string>{"first", "${not expanded}"}));
}

TEST(ClientSettings, MessagesWithoutDurationRunUntilCount) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.bench", "true");
  config->setString("client.messages", "100");
  const auto s = ClientSettings::fromConfig(*config);
  EXPECT_EQ(s.mode, ClientMode::Bench);
  EXPECT_EQ(s.messagesPerConnection, 100);
  EXPECT_EQ(s.duration.totalMicroseconds(), 0);
}

TEST(ClientSettings, CheckAndBenchTogetherAreRefused) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.check", "true");
  config->setString("client.bench", "true");
  EXPECT_THROW(ClientSettings::fromConfig(*config), SettingsError);
}

TEST(ClientSettings, BadConnectionCountIsRefused) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.bench", "true");
  config->setString("client.connections", "0");
  EXPECT_THROW(ClientSettings::fromConfig(*config), SettingsError);
}

TEST(ClientSettings, BenchOptionsWithoutBenchAreWarnedAboutNotRead) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.connections", "0");
  config->setString("client.duration", "0");
  const auto s = ClientSettings::fromConfig(*config);
  EXPECT_EQ(s.mode, ClientMode::Interactive);
  ASSERT_EQ(s.warnings.size(), 2u);
  EXPECT_EQ(s.warnings[0], "--connections is a --bench option: ignored without --bench");
  EXPECT_EQ(s.warnings[1], "--duration is a --bench option: ignored without --bench");
}

TEST(ClientSettings, RawBenchNeedsOneMessageInFlightOfAtMostOneRead) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.bench", "true");
  config->setString("client.framing", "raw");
  config->setString("client.size", "1024");
  EXPECT_NO_THROW(ClientSettings::fromConfig(*config));
  config->setString("client.size", "1025");
  EXPECT_THROW(ClientSettings::fromConfig(*config), SettingsError);
  config->setString("client.size", "16");
  config->setString("client.pipeline", "2");
  EXPECT_THROW(ClientSettings::fromConfig(*config), SettingsError);
}

TEST(ClientSettings, TlsDefaultsToPort4568AndTheSystemCas) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.tls", "true");
  auto s = ClientSettings::fromConfig(*config);
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(s.port, 4568);
  EXPECT_EQ(s.tlsCa, "");
  config->setString("client.port", "9999");
  config->setString("client.tlsCa", "/ca.pem");
  s = ClientSettings::fromConfig(*config);
  EXPECT_EQ(s.port, 9999);
  EXPECT_EQ(s.tlsCa, "/ca.pem");
  config->setString("client.tls-insecure", "true");
  EXPECT_THROW(ClientSettings::fromConfig(*config), SettingsError);
}

TEST(ClientSettings, AlpnAndTheServerNameAreOffered) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.tls", "true");
  auto s = ClientSettings::fromConfig(*config);
  EXPECT_TRUE(s.tlsAlpn.empty());
  EXPECT_EQ(s.serverName(), "127.0.0.1");
  config->setString("client.tlsAlpn", "http/1.1,h2");
  config->setString("client.tlsServerName", "echo.example");
  s = ClientSettings::fromConfig(*config);
  EXPECT_EQ(s.tlsAlpn, std::vector<std::string>({"http/1.1", "h2"}));
  EXPECT_EQ(s.serverName(), "echo.example");
  config->setString("client.tlsAlpn", "h2,");
  EXPECT_THROW(ClientSettings::fromConfig(*config), SettingsError);
  config->setString("client.tls", "false");
  config->setString("client.tlsAlpn", "h2");
  s = ClientSettings::fromConfig(*config);
  ASSERT_EQ(s.warnings.size(), 2U);
  EXPECT_EQ(s.warnings[0], "--tls-alpn is a --tls option: ignored without --tls");
  EXPECT_EQ(s.warnings[1], "--tls-server-name is a --tls option: ignored without --tls");
}

TEST(ClientSettings, TlsOptionsWithoutTlsAreWarnedAbout) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.tls-insecure", "true");
  config->setString("client.tlsCa", "/ca.pem");
  const auto s = ClientSettings::fromConfig(*config);
  EXPECT_FALSE(s.tls);
  EXPECT_EQ(s.port, 4567);
  ASSERT_EQ(s.warnings.size(), 2U);
  EXPECT_EQ(s.warnings[0], "--tls-insecure is a --tls option: ignored without --tls");
}

}  // namespace
TEST(ClientSettings, SpreadGroupsByAFieldAndChecksExpectedShares) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.spread", "50");
  config->setString("client.by", "label:track");
  config->setString("client.expect", "canary:10~3,stable:90");
  const auto s = ClientSettings::fromConfig(*config);
  EXPECT_EQ(s.mode, ClientMode::Spread);
  EXPECT_EQ(s.spreadBy, "label:track");
  ASSERT_EQ(s.expect.size(), 2u);
  EXPECT_EQ(s.expect[0].value, "canary");
  EXPECT_EQ(s.expect[0].tolerance, 3);
  EXPECT_EQ(s.expect[1].tolerance, 5);
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"client.by", "colour"}, {"client.by", "label:"}, {"client.expect", "canary"}, {"client.expect", "a:120"}}) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> bad(new Poco::Util::MapConfiguration);
    bad->setString("client.spread", "5");
    bad->setString(key, value);
    EXPECT_THROW(ClientSettings::fromConfig(*bad), SettingsError) << key << "=" << value;
  }
}

TEST(ClientSettings, SpreadOptionsWithoutSpreadAreWarnedAbout) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.by", "version");
  const auto s = ClientSettings::fromConfig(*config);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_EQ(s.warnings[0], "--by is a --spread option: ignored without --spread");
}

TEST(ClientSettings, FindIdleTimeoutIsAModeOfItsOwnWithABoundedMax) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("client.findIdleTimeout", "90");
  config->setString("client.json", "true");
  const auto s = ClientSettings::fromConfig(*config);
  EXPECT_EQ(s.mode, ClientMode::FindIdleTimeout);
  EXPECT_EQ(s.findIdleTimeout, 90);
  EXPECT_TRUE(s.json);
  EXPECT_TRUE(s.warnings.empty());
  for (const char* bad : {"0.5", "3601", "-1", "soon"}) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
    c->setString("client.findIdleTimeout", bad);
    EXPECT_THROW(ClientSettings::fromConfig(*c), SettingsError) << bad;
  }
  config->setString("client.bench", "true");
  EXPECT_THROW(ClientSettings::fromConfig(*config), SettingsError);
}

}  // namespace echod
