#include "common/file_lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <utility>

namespace slipway {

Expected<std::optional<FileLock>> FileLock::lock(const std::filesystem::path& file, Mode mode,
                                                 bool wait) {
  int fd = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail("cannot open '{}': {}", file.string(), errno_text(errno));
  }
  int operation = (mode == Mode::shared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
  while (flock(fd, operation) != 0) {
    int err = errno;
    if (err == EINTR) {
      continue;
    }
    close(fd);
    if (err == EWOULDBLOCK) {
      return std::optional<FileLock>();
    }
    return fail("cannot lock '{}': {}", file.string(), errno_text(err));
  }
  return std::optional<FileLock>(FileLock(fd));
}

Expected<FileLock> FileLock::acquire(const std::filesystem::path& file, Mode mode) {
  return std::move(*TRY(lock(file, mode, true)));
}

Expected<std::optional<FileLock>> FileLock::try_acquire(const std::filesystem::path& file,
                                                        Mode mode) {
  return lock(file, mode, false);
}

FileLock::FileLock(FileLock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

FileLock::~FileLock() {
  if (m_fd >= 0) {
    close(m_fd);
  }
}

} // namespace slipway
