#include "service/connection/EchoWorker.h"

#include "service/connection/EchoConnection.h"
#include "service/connection/WorkerScheduling.h"

namespace echod {

void EchoWorker::run() {
  ConnectionSlot* slot = _context.registry.attach(socket());
  if (slot == nullptr) return;  // answered while it waited for this thread
  applyWorkerScheduling(_context.options.workerScheduling);
  Poco::Net::StreamSocket next = socket();
  for (;;) {
    EchoConnection(next, *slot, _context).run();
    slot = _context.registry.park(next, kParkMs);
    if (slot == nullptr) return;  // back to POCO's dispatcher
  }
}

}  // namespace echod
