#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>

#include <cstdlib>

#include "service/server/ServerSettings.h"

namespace echod {
namespace {

Poco::AutoPtr<Poco::Util::MapConfiguration> configWith(
    std::initializer_list<std::pair<std::string, std::string>> values) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  for (const auto& [key, value] : values) config->setString(key, value);
  return config;
}

std::string errorFor(const std::string& key, const std::string& value) {
  try {
    ServerSettings::fromConfig(*configWith({{key, value}}));
  } catch (const SettingsError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ServerSettings, DefaultsAreTheProtocolDefaults) {
  const auto s = ServerSettings::fromConfig(*configWith({}));
  EXPECT_EQ(s.host, "0.0.0.0");
  EXPECT_EQ(s.port, 4567);
  EXPECT_EQ(s.session.framing, Framing::Line);
  EXPECT_EQ(s.session.prefix, "echo : ");
  EXPECT_EQ(s.session.maxLineLength, 65536u);
  EXPECT_EQ(s.idleTimeout.totalSeconds(), 300);
  EXPECT_EQ(s.drainTimeout.totalSeconds(), 5);
  EXPECT_EQ(s.maxConnectionsPerAddress, 0);
  EXPECT_EQ(s.idleTimeoutUnderLoad.totalSeconds(), 10);
  EXPECT_EQ(s.queueTimeout.totalSeconds(), 5);
  EXPECT_EQ(s.maxThreads, 0);  // sized from the machine at start-up
  EXPECT_EQ(s.minThreads, 0);  // min(16, maxThreads)
  EXPECT_EQ(s.maxQueued, 64);
  EXPECT_EQ(s.workerScheduling, WorkerScheduling::Normal);
}

TEST(ServerSettings, ReadsEveryKey) {
  const auto s = ServerSettings::fromConfig(*configWith({{"echo.host", "::"},
                                                         {"echo.port", "0"},
                                                         {"echo.framing", "raw"},
                                                         {"echo.prefix", "${x} "},
                                                         {"echo.maxLineLength", "10"},
                                                         {"echo.idleTimeout", "0.25"},
                                                         {"echo.maxThreads", "3"},
                                                         {"echo.minThreads", "2"},
                                                         {"echo.maxQueued", "0"},
                                                         {"echo.drainTimeout", "1.5"},
                                                         {"echo.maxConnectionsPerAddress", "2"},
                                                         {"echo.threadStackSize", "131072"},
                                                         {"echo.workerScheduling", "batch"},
                                                         {"echo.logLevel", "debug"}}));
  EXPECT_EQ(s.host, "::");
  EXPECT_EQ(s.port, 0);
  EXPECT_EQ(s.session.framing, Framing::Raw);
  EXPECT_EQ(s.session.prefix, "${x} ");  // not expanded
  EXPECT_EQ(s.session.maxLineLength, 10u);
  EXPECT_EQ(s.idleTimeout.totalMilliseconds(), 250);
  EXPECT_EQ(s.maxThreads, 3);
  EXPECT_EQ(s.minThreads, 2);
  EXPECT_EQ(s.maxQueued, 0);
  EXPECT_EQ(s.drainTimeout.totalMilliseconds(), 1500);
  EXPECT_EQ(s.maxConnectionsPerAddress, 2);
  EXPECT_EQ(s.threadStackSize, 131072);
  EXPECT_EQ(s.workerScheduling, WorkerScheduling::Batch);
  EXPECT_EQ(s.logLevel, "debug");
}

TEST(ServerSettings, BadValueNamesTheSettingItsSourcesAndTheValue) {
  EXPECT_EQ(errorFor("echo.port", "abc"),
            "invalid value 'abc' for echo.port (--port, ECHO_PORT): expected a whole number from 0 to 65535");
}

TEST(ServerSettings, RejectsOutOfRangeAndMalformedValues) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"echo.port", "65536"},
           {"echo.port", "-1"},
           {"echo.port", "80x"},
           {"echo.port", ""},
           {"echo.framing", "xml"},
           {"echo.host", "not-an-address"},
           {"echo.maxLineLength", "0"},
           {"echo.idleTimeout", "-1"},
           {"echo.idleTimeout", "soon"},
           {"echo.drainTimeout", "nan"},
           {"echo.maxThreads", "-1"},
           {"echo.idleTimeoutUnderLoad", "-1"},
           {"echo.queueTimeout", "forever"},
           {"echo.maxQueued", "-5"},
           {"echo.threadStackSize", "1024"},
           {"echo.logLevel", "loud"},
           {"echo.workerScheduling", "realtime"},
           {"echo.labels", "Track=canary"},
           {"echo.labels", "a=1,a=2"},
           {"echo.maxConnectionAge", "30~30"},
           {"echo.maxConnectionAge", "-5"},
           {"echo.maxMessagesPerConnection", "-1"},
           {"echo.tcpKeepalive", "60,10"},
           {"echo.tcpKeepalive", "0,10,6"},
           {"echo.tcpKeepalive", "60,10,200"},
           {"echo.tcpKeepalive", "on"},
           {"echo.tcpUserTimeout", "-1"},
           {"echo.tlsAlpn", ""},
           {"echo.tlsAlpn", "h2,,http/1.1"},
           {"echo.tlsAlpn", "h2,h2"},
           {"echo.tlsAlpn", "h 2"},
       }) {
    const std::string message = errorFor(key, value);
    EXPECT_NE(message, "(accepted)") << key << "=" << value;
    EXPECT_NE(message.find(key), std::string::npos) << message;
    EXPECT_NE(message.find("'" + value + "'"), std::string::npos) << message;
  }
}

TEST(ServerSettings, AlpnIsOffByDefaultAndKeepsTheServersOrder) {
  EXPECT_TRUE(ServerSettings::fromConfig(*configWith({})).tlsAlpn.empty());
  const auto s = ServerSettings::fromConfig(*configWith({{"echo.tlsAlpn", "h2,http/1.1"}}));
  EXPECT_EQ(s.tlsAlpn, std::vector<std::string>({"h2", "http/1.1"}));
  EXPECT_EQ(errorFor("echo.tlsAlpn", "h2,h2"),
            "invalid value 'h2,h2' for echo.tlsAlpn (--tls-alpn, ECHO_TLS_ALPN): protocol names separated by commas, "
            "or off ('h2' twice)");
}

TEST(ServerSettings, RolloutSettingsAreOffByDefaultAndReadWhenGiven) {
  const auto d = ServerSettings::fromConfig(*configWith({}));
  EXPECT_TRUE(d.labels.empty());
  EXPECT_EQ(d.serviceVersion, ECHOD_VERSION);
  EXPECT_FALSE(d.maxConnectionAge.any());
  EXPECT_EQ(d.maxMessagesPerConnection, 0u);
  EXPECT_FALSE(d.tcpKeepalive);
  EXPECT_EQ(d.tcpUserTimeoutMs, 0);
  const auto s = ServerSettings::fromConfig(*configWith({{"echo.labels", "track=canary,zone=b"},
                                                         {"echo.serviceVersion", "2.0.0-rc1"},
                                                         {"echo.maxConnectionAge", "60~10"},
                                                         {"echo.maxMessagesPerConnection", "1000"},
                                                         {"echo.tcpKeepalive", "60,10,6"},
                                                         {"echo.tcpUserTimeout", "30000"}}));
  ASSERT_EQ(s.labels.size(), 2u);
  EXPECT_EQ(s.labels[1].second, "b");
  EXPECT_EQ(s.serviceVersion, "2.0.0-rc1");
  EXPECT_EQ(s.maxConnectionAge.minMs, 50000);
  EXPECT_EQ(s.maxConnectionAge.maxMs, 70000);
  EXPECT_EQ(s.maxMessagesPerConnection, 1000u);
  ASSERT_TRUE(s.tcpKeepalive);
  EXPECT_EQ(s.tcpKeepalive->idle, 60);
  EXPECT_EQ(s.tcpKeepalive->interval, 10);
  EXPECT_EQ(s.tcpKeepalive->count, 6);
  EXPECT_EQ(s.tcpUserTimeoutMs, 30000);
  EXPECT_EQ(s.describeRollout(),
            "version 2.0.0-rc1, labels track=canary,zone=b; connections end at an age of 60 s ~ 10 s; after 1000 "
            "messages; TCP keepalive after 60 s, every 10 s, 6 probes; TCP user timeout 30000 ms");
}

TEST(ServerSettings, MinThreadsAboveMaxThreadsIsRefused) {
  try {
    ServerSettings::fromConfig(*configWith({{"echo.maxThreads", "2"}, {"echo.minThreads", "3"}}));
    FAIL() << "accepted minThreads 3 with maxThreads 2";
  } catch (const SettingsError& e) {
    EXPECT_STREQ(
        e.what(),
        "invalid value '3' for echo.minThreads (--min-threads, ECHO_MIN_THREADS): at most echo.maxThreads (2)");
  }
}

TEST(ServerSettings, MinThreadsAloneIsNotComparedWithTheDefaultPool) {
  const auto s = ServerSettings::fromConfig(*configWith({{"echo.minThreads", "300"}}));
  EXPECT_EQ(s.minThreads, 300);
  EXPECT_EQ(s.withPool(1000).maxThreads, 1000);
  EXPECT_THROW(s.withPool(200), SettingsError);
}

TEST(ServerSettings, WithPoolFillsMaxThreadsAndDefaultsMinThreads) {
  const auto automatic = ServerSettings::fromConfig(*configWith({})).withPool(10000);
  EXPECT_EQ(automatic.maxThreads, 10000);
  EXPECT_EQ(automatic.minThreads, 16);
  // A small explicit pool starts alone: minThreads follows it down.
  const auto two = ServerSettings::fromConfig(*configWith({{"echo.maxThreads", "2"}})).withPool(10000);
  EXPECT_EQ(two.maxThreads, 2);
  EXPECT_EQ(two.minThreads, 2);
}

TEST(ServerSettings, EnvironmentLayerMapsEchoVariablesToKeys) {
  ::setenv("ECHO_PORT", "5001", 1);
  ::setenv("ECHO_MAX_LINE_LENGTH", "77", 1);
  const auto layer = environmentLayer(ServerSettings::specs());
  ::unsetenv("ECHO_PORT");
  ::unsetenv("ECHO_MAX_LINE_LENGTH");
  EXPECT_EQ(layer->getString("echo.port"), "5001");
  EXPECT_EQ(layer->getString("echo.maxLineLength"), "77");
  EXPECT_FALSE(layer->hasProperty("echo.framing"));
}

TEST(ServerSettings, EverySpecHasKeyOptionAndEnvironmentName) {
  for (const auto& spec : ServerSettings::specs()) {
    EXPECT_EQ(spec.key.substr(0, 5), "echo.");
    EXPECT_FALSE(spec.option.empty());
    EXPECT_EQ(spec.env.substr(0, 5), "ECHO_");
  }
}

TEST(ServerSettings, TlsIsOffByDefaultAndNeedsBothFilesWhenOn) {
  const auto defaults = ServerSettings::fromConfig(*configWith({}));
  EXPECT_FALSE(defaults.tlsEnabled());
  EXPECT_EQ(defaults.tlsCertificate, "");
  EXPECT_EQ(defaults.tlsMinVersion, tls::MinVersion::Tls12);
  EXPECT_EQ(defaults.tlsHandshakeTimeout.totalMilliseconds(), 10000);
  const auto on = ServerSettings::fromConfig(*configWith({{"echo.tlsPort", "4568"},
                                                          {"echo.tlsCertificate", "/c.pem"},
                                                          {"echo.tlsPrivateKey", "/k.pem"},
                                                          {"echo.tlsMinVersion", "1.3"},
                                                          {"echo.tlsHandshakeTimeout", "2.5"}}));
  EXPECT_EQ(on.tlsPort, 4568);
  EXPECT_EQ(on.tlsCertificate, "/c.pem");
  EXPECT_EQ(on.tlsPrivateKey, "/k.pem");
  EXPECT_EQ(on.tlsMinVersion, tls::MinVersion::Tls13);
  EXPECT_EQ(on.tlsHandshakeTimeout.totalMilliseconds(), 2500);
  EXPECT_EQ(ServerSettings::fromConfig(*configWith({{"echo.tlsPort", "off"}})).tlsPort, ServerSettings::kTlsOff);
  EXPECT_EQ(errorFor("echo.tlsPort", "4568"),
            "invalid value '' for echo.tlsCertificate (--tls-certificate, ECHO_TLS_CERTIFICATE): a PEM file, required "
            "with echo.tlsPort");
  EXPECT_EQ(errorFor("echo.tlsMinVersion", "1.1"),
            "invalid value '1.1' for echo.tlsMinVersion (--tls-min-version, ECHO_TLS_MIN_VERSION): expected one of "
            "1.2|1.3");
  EXPECT_NE(errorFor("echo.tlsPort", "70000").find("echo.tlsPort"), std::string::npos);
  EXPECT_NE(errorFor("echo.tlsPort", "4567").find("a port other than echo.port"), std::string::npos);
}

}  // namespace
}  // namespace echod
