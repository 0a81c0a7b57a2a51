#include "runtime/daemon/port_pool.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace slipway::daemon {

PortPool::PortPool(int low, int high, std::function<bool(int)> is_free)
    : m_low(low), m_high(high), m_next(low), m_is_free(std::move(is_free)) {}

Expected<int> PortPool::allocate() {
  const int span = m_high - m_low + 1;
  for (int tried = 0; tried < span; ++tried) {
    int port = m_next;
    m_next = port == m_high ? m_low : port + 1;
    if (m_used.contains(port) || !m_is_free(port)) {
      continue;
    }
    m_used.insert(port);
    return port;
  }
  return fail("no free port left in [runtime].port_range {}-{}", m_low, m_high);
}

void PortPool::release(int port) {
  m_used.erase(port);
}

bool port_is_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  bool free = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  if (fd >= 0) {
    close(fd);
  }
  return free;
}

} // namespace slipway::daemon
