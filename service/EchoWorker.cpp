#include "service/EchoWorker.h"

#include "service/EchoConnection.h"
#include "service/WorkerScheduling.h"

namespace echod {

void EchoWorker::run() {
  ConnectionRegistry::Slot* slot = _registry.attach(socket());
  if (slot == nullptr) return;  // answered while it waited for this thread
  applyWorkerScheduling(_settings.workerScheduling);
  Poco::Net::StreamSocket next = socket();
  for (;;) {
    EchoConnection(next, *slot, _settings, _registry, _metrics).run();
    slot = _registry.park(next, kParkMs);
    if (slot == nullptr) return;  // back to POCO's dispatcher
  }
}

}  // namespace echod
