// The ports web processes get from [runtime].port_range: handed out round robin, so that
// a port just given back is the last to be reused, and only when free on the host too.
#pragma once

#include <functional>
#include <set>

#include "common/error.hpp"

namespace slipway::daemon {

class PortPool {
 public:
  // `is_free(port)`: whether nothing else on the host listens on it.
  PortPool(int low, int high, std::function<bool(int)> is_free);

  Expected<int> allocate();
  void release(int port);
  bool in_use(int port) const { return m_used.contains(port); }

 private:
  int m_low;
  int m_high;
  int m_next;
  std::set<int> m_used;
  std::function<bool(int)> m_is_free;
};

// Whether a TCP port on 0.0.0.0 can be bound right now.
bool port_is_free(int port);

} // namespace slipway::daemon
