// flock(2) on a file, held for the life of the object; the kernel drops it when the
// process dies, however it dies.
#pragma once

#include <filesystem>
#include <optional>

#include "common/error.hpp"

namespace slipway {

class FileLock {
 public:
  enum class Mode { shared, exclusive };

  // Blocks until the lock is had.
  static Expected<FileLock> acquire(const std::filesystem::path& file, Mode mode);
  // nullopt when another process holds a conflicting lock.
  static Expected<std::optional<FileLock>> try_acquire(const std::filesystem::path& file,
                                                       Mode mode);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : m_fd(fd) {}
  static Expected<std::optional<FileLock>> lock(const std::filesystem::path& file, Mode mode,
                                                bool wait);
  int m_fd = -1;
};

} // namespace slipway
