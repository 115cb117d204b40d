#include "service/core/WhoAnswer.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/Environment.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <array>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

namespace echod {
namespace {

using Poco::JSON::Object;

constexpr std::array<const char*, 5> kPlaceholders{"{hostname}", "{pod}", "{client}", "{listener}", "{peer_identity}"};
constexpr std::string_view kLabelPlaceholder = "{label:";

std::optional<std::string> environment(const char* name) {
  if (!Poco::Environment::has(name)) return std::nullopt;
  return Poco::Environment::get(name);
}

Poco::Dynamic::Var orNull(const std::optional<std::string>& value) {
  return value ? Poco::Dynamic::Var(*value) : Poco::Dynamic::Var();
}

Poco::Dynamic::Var address(const std::optional<ProxyAddress>& a) {
  return a ? Poco::Dynamic::Var(a->text()) : Poco::Dynamic::Var();
}

Object::Ptr tlvsOf(const ProxyTlvs& t) {
  Object::Ptr tlvs = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  if (t.alpn) tlvs->set("alpn", *t.alpn);
  if (t.authority) tlvs->set("authority", *t.authority);
  if (t.crc32c) {
    std::ostringstream hex;
    hex << std::hex << *t.crc32c;
    tlvs->set("crc32c", hex.str());
  }
  if (t.uniqueId) tlvs->set("unique_id", toHex(*t.uniqueId));
  if (t.ssl) {
    Object::Ptr ssl = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    ssl->set("client", static_cast<int>(t.ssl->client));
    ssl->set("verify", static_cast<Poco::UInt64>(t.ssl->verify));
    const std::pair<const char*, const std::optional<std::string>*> named[] = {{"version", &t.ssl->version},
                                                                               {"cn", &t.ssl->commonName},
                                                                               {"cipher", &t.ssl->cipher},
                                                                               {"sig_alg", &t.ssl->signatureAlgorithm},
                                                                               {"key_alg", &t.ssl->keyAlgorithm}};
    for (const auto& [key, value] : named) {
      if (*value) ssl->set(key, **value);
    }
    for (const ProxyTlv& sub : t.ssl->other) ssl->set(proxyTlvKey(sub.type), toHex(sub.value));
    tlvs->set("ssl", ssl);
  }
  if (t.netns) tlvs->set("netns", *t.netns);
  if (t.awsVpceId) tlvs->set("aws_vpce_id", *t.awsVpceId);
  for (const ProxyTlv& other : t.other) tlvs->set(proxyTlvKey(other.type), toHex(other.value));
  return tlvs;
}

Object::Ptr tcpOf(const TcpFacts& t) {
  Object::Ptr tcp = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  tcp->set("rtt_us", t.rttUs);
  tcp->set("rttvar_us", t.rttvarUs);
  tcp->set("retransmits", t.retransmits);
  tcp->set("mss", t.mss);
  tcp->set("pmtu", t.pmtu);
  tcp->set("cwnd", t.cwnd);
  if (t.keepalive) {
    Object::Ptr keepalive = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    keepalive->set("idle", t.keepalive->idle);
    keepalive->set("interval", t.keepalive->interval);
    keepalive->set("count", t.keepalive->count);
    tcp->set("keepalive", keepalive);
  } else {
    tcp->set("keepalive", Poco::Dynamic::Var());
  }
  tcp->set("user_timeout_ms", t.userTimeoutMs);
  return tcp;
}

Poco::JSON::Array::Ptr arrayOf(const std::vector<std::string>& values) {
  Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
  for (const auto& value : values) array->add(value);
  return array;
}

/// tls.client: every string already valid UTF-8 (tls::certificateFacts), escaped by POCO's JSON.
Object::Ptr certificateOf(const tls::CertificateFacts& c) {
  Object::Ptr client = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  client->set("subject", c.subject);
  client->set("issuer", c.issuer);
  client->set("serial", c.serial);
  client->set("not_before", c.notBefore);
  client->set("not_after", c.notAfter);
  client->set("sha256", c.sha256);
  Object::Ptr sans = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  sans->set("dns", arrayOf(c.dns));
  sans->set("ip", arrayOf(c.ip));
  sans->set("uri", arrayOf(c.uri));
  sans->set("email", arrayOf(c.email));
  client->set("sans", sans);
  client->set("spiffe_id", orNull(c.spiffeId));
  client->set("verified", c.verified);
  return client;
}

/// {peer_identity}: the SPIFFE ID, else the CN, else `-`; a control byte
/// becomes `?`, so a certificate cannot break the line it goes into.
std::string peerIdentity(const ConnectionFacts& facts) {
  if (!facts.tls || !facts.tls->client) return "-";
  const auto& c = *facts.tls->client;
  std::string identity = c.spiffeId ? *c.spiffeId : c.commonName.value_or("-");
  for (char& ch : identity) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) ch = '?';
  }
  return identity.empty() ? "-" : identity;
}

const std::string* labelOf(const ServerIdentity& identity, std::string_view key) {
  for (const auto& [name, value] : identity.labels) {
    if (name == key) return &value;
  }
  return nullptr;
}

}  // namespace

std::string ConnectionWho::whoReply() {
  _facts.tcp = tcpFacts(_fd);
  return whoJson(_identity, _facts);
}

ServerIdentity ServerIdentity::fromEnvironment(std::string version, Labels labels) {
  ServerIdentity identity;
  identity.version = std::move(version);
  identity.labels = std::move(labels);
  identity.hostname = Poco::Environment::nodeName();
  identity.pod = environment("POD_NAME");
  identity.podNamespace = environment("POD_NAMESPACE");
  identity.node = environment("NODE_NAME");
  return identity;
}

std::string whoJson(const ServerIdentity& identity, const ConnectionFacts& facts) {
  Object who(Poco::JSON_PRESERVE_KEY_ORDER);
  who.set("hostname", identity.hostname);
  who.set("pod", orNull(identity.pod));
  who.set("namespace", orNull(identity.podNamespace));
  who.set("node", orNull(identity.node));
  who.set("version", identity.version);
  Object::Ptr labels = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [key, value] : identity.labels) labels->set(key, value);
  who.set("labels", labels);
  who.set("listener", std::string(facts.listener));
  who.set("local", facts.local);
  who.set("peer", facts.peer);
  who.set("client", facts.client);
  if (facts.proxy != nullptr) {
    const ProxyHeader& h = *facts.proxy;
    Object::Ptr proxy = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    proxy->set("version", h.version);
    proxy->set("command", std::string(h.local ? "LOCAL" : "PROXY"));
    proxy->set("source", address(h.source));
    proxy->set("destination", address(h.destination));
    proxy->set("tlvs", tlvsOf(h.tlvs));
    who.set("proxy", proxy);
  } else {
    who.set("proxy", Poco::Dynamic::Var());
  }
  if (facts.tls) {
    Object::Ptr tls = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    tls->set("version", facts.tls->version);
    tls->set("cipher", facts.tls->cipher);
    tls->set("sni", facts.tls->sni.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(facts.tls->sni));
    tls->set("alpn", facts.tls->alpn.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(facts.tls->alpn));
    tls->set("client",
             facts.tls->client ? Poco::Dynamic::Var(certificateOf(*facts.tls->client)) : Poco::Dynamic::Var());
    who.set("tls", tls);
  } else {
    who.set("tls", Poco::Dynamic::Var());
  }
  who.set("tcp", facts.tcp ? Poco::Dynamic::Var(tcpOf(*facts.tcp)) : Poco::Dynamic::Var());
  who.set("faults", facts.faults);
  std::ostringstream out;
  who.stringify(out);
  return out.str();
}

bool hasPlaceholders(const std::string& text) {
  if (text.find(kLabelPlaceholder) != std::string::npos) return true;
  for (const char* placeholder : kPlaceholders) {
    if (text.find(placeholder) != std::string::npos) return true;
  }
  return false;
}

std::string expandPlaceholders(const std::string& text, const ServerIdentity& identity, const ConnectionFacts& facts) {
  const std::array<std::string, kPlaceholders.size()> values{
      identity.hostname, identity.pod.value_or(identity.hostname), facts.client, facts.listener,
      text.find("{peer_identity}") != std::string::npos ? peerIdentity(facts) : std::string()};
  std::string out;
  out.reserve(text.size() + 32);
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text.compare(i, kLabelPlaceholder.size(), kLabelPlaceholder) == 0) {
      const std::size_t close = text.find('}', i);
      if (close != std::string::npos) {
        const std::string_view key(text.data() + i + kLabelPlaceholder.size(), close - i - kLabelPlaceholder.size());
        const std::string* value = labelOf(identity, key);
        out += value != nullptr ? *value : std::string("-");
        i = close + 1;
        continue;
      }
    }
    if (text[i] == '{') {
      for (std::size_t p = 0; p < kPlaceholders.size(); ++p) {
        const std::string_view name(kPlaceholders[p]);
        if (text.compare(i, name.size(), name) == 0) {
          out += values[p];
          i += name.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

}  // namespace echod
