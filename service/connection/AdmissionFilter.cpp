#include "service/connection/AdmissionFilter.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include "service/connection/SocketEndings.h"
#include "service/core/ListeningSocket.h"

namespace echod {

bool AdmissionFilter::accept(const Poco::Net::StreamSocket& socket) {
  ConnectionRegistry::Admission admission;
  try {
    if (_proxySources && !_proxySources->allows(peerOf(socket).host())) {
      admission.refusal = ErrorReason::ProxyNotAllowed;
      _metrics.countProxyHeader(ProxyHeaderCounters::ProxyVersion::None, ProxyHeaderCounters::ProxyResult::NotAllowed);
    } else {
      admission = _registry.admit(socket, _listener);
    }
  } catch (const Poco::Exception& e) {
    Poco::Logger::get("echod.server").debug("dropped a connection gone before admission: %s", e.displayText());
    return false;
  }
  // Admitted: the registry holds its own reference to the socket, so POCO's
  // going out of scope does not close it.
  if (admission.startWorker) _workers.request();
  const auto refusal = admission.refusal;
  if (!refusal) return false;
  // Counted before the reply goes out: whoever reads the reply then finds it in /metrics.
  _metrics.count(_metrics.refused[ConnectionMetrics::slot(*refusal)]);
  Poco::Net::StreamSocket refused(socket);
  refuseSocket(refused, *refusal);
  if (const std::size_t lately = _refusals.count(); lately > 0) {
    Poco::Logger::get("echod.server")
        .warning("refused %z connection(s) in the last second, latest: %s", lately, std::string(reasonText(*refusal)));
  }
  return false;
}

}  // namespace echod
