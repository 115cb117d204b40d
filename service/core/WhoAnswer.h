#pragma once

#include <optional>
#include <string>

#include "protocol/EchoSession.h"
#include "protocol/ProxyHeader.h"
#include "protocol/Rollout.h"
#include "service/core/TcpInfo.h"
#include "tls/TlsContext.h"

namespace echod {

// Who answered (docs/protocol.md, "Who answered"): the JSON of the who
// command, and the placeholders of the banner and the prefix. Built once per
// connection, and only when one of those is on.

/// Who this replica is, read once at start-up: its host name and Kubernetes'
/// Downward API variables (POD_NAME, POD_NAMESPACE, NODE_NAME), and the
/// version and labels it was given (echo.serviceVersion, echo.labels).
struct ServerIdentity {
  std::string hostname;
  std::optional<std::string> pod, podNamespace, node;
  std::string version;
  Labels labels;
  /// The host and the environment's; `version` and `labels` as given.
  static ServerIdentity fromEnvironment(std::string version, Labels labels);
};

/// What one connection looks like from the server.
struct ConnectionFacts {
  const char* listener = "plain";  ///< plain, tls, proxy
  std::string local;               ///< the address the client reached, "ip:port" ("[v6]:port")
  std::string peer;                ///< the socket's peer
  std::string client;              ///< the PROXY header's source, else the peer
  const ProxyHeader* proxy = nullptr;
  std::optional<tls::SessionFacts> tls;
  std::optional<TcpFacts> tcp;  ///< TCP_INFO at the moment of the answer; none on UDP, or where unavailable
  bool faults = false;          ///< drawn for faults on demand
};

/// The who command's answer: one line of JSON (no newline), serialised by POCO.
std::string whoJson(const ServerIdentity& identity, const ConnectionFacts& facts);

/// The who command of one TCP connection: its facts, gathered once, and its
/// TCP_INFO, read at each answer.
class ConnectionWho : public WhoSource {
 public:
  ConnectionWho(const ServerIdentity& identity, ConnectionFacts facts, int fd)
      : _identity(identity), _facts(std::move(facts)), _fd(fd) {}
  std::string whoReply() override;

 private:
  const ServerIdentity& _identity;
  ConnectionFacts _facts;
  int _fd;
};

/// `text` with {hostname}, {pod} (POD_NAME, else the host name), {client},
/// {listener}, {peer_identity} (the client certificate's SPIFFE ID, else its
/// CN, else `-`) and {label:KEY} (`-` when the replica has no such label)
/// filled in; other braces are left as they are.
std::string expandPlaceholders(const std::string& text, const ServerIdentity& identity, const ConnectionFacts& facts);

/// Whether `text` holds a placeholder expandPlaceholders() fills.
bool hasPlaceholders(const std::string& text);

}  // namespace echod
