#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/ClientSettings.h"
#include "client/ServerConnector.h"

namespace echod {

/// --find-idle-timeout=MAX (docs/protocol.md "Rollouts and connection
/// lifetime"): what closes a silent connection on the path to the server (a
/// load balancer's idle timeout, a NAT's, the server's own), and when. Each
/// probe is a connection that gets one echo, stays silent for its time, then
/// sends one message: answered, or ended by `fin`, `reset` or `timeout` (no
/// answer within kAnswerWait: a black hole). Probes run at once, a thread
/// each, in the two rounds IdleTimeoutSearch chooses: at most 12 connections
/// and 2 x MAX seconds of silence in all.
class IdleTimeoutProbe {
 public:
  static constexpr double kAnswerWaitSeconds = 5;

  IdleTimeoutProbe(const ClientSettings& settings, const ServerConnector& connector)
      : _settings(settings), _connector(connector) {}

  struct Probe {
    double silence = 0;                 ///< seconds it stayed silent (or meant to)
    bool connected = false;             ///< its connection opened
    bool started = false;               ///< ... and got its first echo
    bool survived = false;              ///< its message after the silence got its echo
    std::string how;                    ///< when it did not: fin, reset or timeout
    std::optional<double> closedAfter;  ///< seen closed this many seconds into its silence
    std::string said;                   ///< what the server sent that was not the echo (e.g. ERR idle timeout)
    std::string error;                  ///< why it did not start
  };

  struct Result {
    double max = 0;
    bool cannotStart = false;    ///< no probe got its first echo
    bool cannotConnect = false;  ///< ... because none could connect
    std::string whyNot;
    double survived = 0;                ///< the longest silence answered (0: none)
    std::optional<double> died;         ///< the shortest silence not answered
    std::string how;                    ///< how that one ended
    std::optional<double> closedAfter;  ///< the earliest a silent probe was seen closed, into its silence
    std::vector<Probe> probes;          ///< in the order they ran
    std::string text() const;
    std::string json() const;
  };

  Result run();

 private:
  /// Runs `silences` at once, each on its own thread; appends them to `result`.
  void runRound(const std::vector<double>& silences, Result& result);
  void runOne(Probe& probe, int id);

  const ClientSettings& _settings;
  const ServerConnector& _connector;
};

}  // namespace echod
