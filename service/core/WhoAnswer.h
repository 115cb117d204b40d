#pragma once

#include <optional>
#include <string>

#include "protocol/ProxyHeader.h"
#include "tls/TlsContext.h"

namespace echod {

// Who answered (docs/protocol.md, "Who answered"): the JSON of the who
// command, and the placeholders of the banner and the prefix. Built once per
// connection, and only when one of those is on.

/// Who this replica is, read once at start-up: its host name and Kubernetes'
/// Downward API variables (POD_NAME, POD_NAMESPACE, NODE_NAME).
struct ServerIdentity {
  std::string hostname;
  std::optional<std::string> pod, podNamespace, node;
  static ServerIdentity fromEnvironment();
};

/// What one connection looks like from the server.
struct ConnectionFacts {
  const char* listener = "plain";  ///< plain, tls, proxy
  std::string local;               ///< the address the client reached, "ip:port" ("[v6]:port")
  std::string peer;                ///< the socket's peer
  std::string client;              ///< the PROXY header's source, else the peer
  const ProxyHeader* proxy = nullptr;
  std::optional<tls::SessionFacts> tls;
  bool faults = false;  ///< drawn for faults on demand
};

/// The who command's answer: one line of JSON (no newline), serialised by POCO.
std::string whoJson(const ServerIdentity& identity, const ConnectionFacts& facts);

/// `text` with {hostname}, {pod} (POD_NAME, else the host name), {client} and
/// {listener} filled in; other braces are left as they are.
std::string expandPlaceholders(const std::string& text, const ServerIdentity& identity, const ConnectionFacts& facts);

/// Whether `text` holds a placeholder expandPlaceholders() fills.
bool hasPlaceholders(const std::string& text);

}  // namespace echod
