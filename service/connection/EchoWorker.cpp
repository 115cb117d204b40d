#include "service/connection/EchoWorker.h"

#include "service/connection/EchoConnection.h"

namespace echod {

void EchoWorker::run() { EchoConnection(socket(), _slot, _context).run(); }

}  // namespace echod
