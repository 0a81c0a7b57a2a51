#include "common/pipe_capture.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace slipway {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

Expected<std::unique_ptr<PipeCapture>> PipeCapture::open(std::size_t limit) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) {
    return fail("cannot make a pipe: {}", errno_text(errno));
  }
  return std::unique_ptr<PipeCapture>(new PipeCapture(UniqueFd(ends[0]), UniqueFd(ends[1]), limit));
}

PipeCapture::PipeCapture(UniqueFd read, UniqueFd write, std::size_t limit)
    : m_read(std::move(read)), m_write(std::make_shared<UniqueFd>(std::move(write))),
      m_limit(limit) {
  m_reader = std::thread([this] {
    char buffer[16384];
    while (true) {
      if (auto stop_at = m_stop_at.load(); stop_at != 0 && now_ns() >= stop_at) {
        return;
      }
      pollfd ready{.fd = m_read.get(), .events = POLLIN, .revents = 0};
      int polled = ::poll(&ready, 1, 100);
      if (polled < 0 && errno != EINTR) {
        return;
      }
      if (polled <= 0) {
        continue;
      }
      ssize_t got = ::read(m_read.get(), buffer, sizeof buffer);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;
      }
      if (got <= 0) {
        return;
      }
      auto room = m_limit - std::min(m_text.size(), m_limit);
      m_overflow = m_overflow || static_cast<std::size_t>(got) > room;
      m_text.append(buffer, std::min(static_cast<std::size_t>(got), room));
    }
  });
}

PipeCapture::~PipeCapture() {
  finish(std::chrono::seconds(0));
}

std::string PipeCapture::descriptor() const {
  return std::to_string(m_write->get());
}

std::pair<std::string, bool> PipeCapture::finish(std::chrono::milliseconds grace) {
  m_write.reset();
  m_stop_at = std::max<std::int64_t>(
      1, now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(grace).count());
  if (m_reader.joinable()) {
    m_reader.join();
  }
  return {std::move(m_text), m_overflow};
}

} // namespace slipway
