#include "service/connection/ConnectionEvents.h"

namespace echod {

void ConnectionEvents::record(Event event) {
  std::lock_guard<std::mutex> lock(_mutex);
  if (_events.size() == kKept) _events.pop_front();
  _events.push_back(std::move(event));
}

std::vector<ConnectionEvents::Event> ConnectionEvents::list() const {
  std::lock_guard<std::mutex> lock(_mutex);
  return {_events.begin(), _events.end()};
}

}  // namespace echod
