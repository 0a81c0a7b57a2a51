// A time limit counted from a start, shared by every step of one piece of work (a build:
// export, .slugignore, each buildpack, packing), so no step can outlast it.
#pragma once

#include <algorithm>
#include <chrono>

namespace slipway {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Deadline(std::chrono::milliseconds limit)
      : m_limit(limit), m_end(Clock::now() + limit) {}
  // No limit.
  Deadline() : m_limit(0), m_end(Clock::time_point::max()) {}

  // What is left, at least 1 ms (a timeout of 0 means "none" to the subprocess wrapper).
  std::chrono::milliseconds remaining() const {
    if (m_end == Clock::time_point::max()) {
      return std::chrono::hours(24 * 365);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_end - Clock::now());
    return std::max(left, std::chrono::milliseconds(1));
  }
  std::chrono::milliseconds limit() const { return m_limit; }
  bool expired() const { return Clock::now() >= m_end; }

 private:
  std::chrono::milliseconds m_limit;
  Clock::time_point m_end;
};

} // namespace slipway
