#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <cstddef>

#include "protocol/Replies.h"

namespace echod {

// How a connection's socket ends, with raw system calls on its descriptor:
// POCO's TLS socket would start a handshake on a read or write, has no
// half-close, and makes shutdownReceive() a no-op. None of these blocks
// except lingerOnThisThread(). Why the server lingers at all:
// docs/protocol.md, "Framing `line`"; who does it: docs/architecture.md.

/// Sends `ERR <reason>` on a socket that no worker serves (just accepted, or
/// still queued), shuts down its sending side and discards what already
/// arrived, so that our close is not a reset racing the reply. A TLS client
/// gets no text (none can be sent before a handshake), only our FIN. Never blocks.
void refuseSocket(Poco::Net::StreamSocket& socket, ErrorReason reason);

/// Reads and drops what has arrived on `fd` without waiting, at most
/// `budget` bytes (decreased by what was dropped), through `sink`. True when
/// the socket is done with: the client closed or reset, or the budget ran out;
/// false when nothing more has arrived yet.
bool discardArrived(int fd, std::size_t& budget, char* sink, std::size_t sinkSize);

/// After our FIN, on the worker's own thread (when LingeringCloses is full, or
/// on TLS): reads and drops until the client closes, for at most `time` and
/// `bytes`, through `sink`.
void lingerOnThisThread(Poco::Net::StreamSocket& socket, const Poco::Timespan& time, std::size_t bytes, char* sink,
                        std::size_t sinkSize);

}  // namespace echod
