// Whole files of slipway's own: read in one go, and replaced, never rewritten in place.
// AtomicFile writes a temp file beside the target and only commit() makes it the target
// (fsync, rename(2), fsync of the directory). Destroyed without commit(), it removes its temp
// file and the target is untouched. (Files an app controls: common/tree.hpp.)
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "common/error.hpp"

namespace slipway {

class AtomicFile {
 public:
  static Expected<AtomicFile> create(std::filesystem::path target, mode_t mode = 0644);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();

  Expected<void> write(std::string_view data);
  Expected<void> commit();
  // The same without the fsyncs: atomic, not durable.
  Expected<void> commit_unsynced();

  int fd() const { return m_fd; }
  const std::filesystem::path& temp_path() const { return m_temp; }

 private:
  AtomicFile(std::filesystem::path target, std::filesystem::path temp, int fd);

  std::filesystem::path m_target;
  std::filesystem::path m_temp;
  int m_fd = -1;
};

// Replace `target` with `content` atomically.
Expected<void> write_file_atomic(const std::filesystem::path& target, std::string_view content,
                                 mode_t mode = 0644);

// Replaces `target` with `content` atomically but not durably (no fsync): for files derived
// from others and written again at start, such as nginx's configuration, which a reload
// must not wait for the disk to take.
Expected<void> write_file_replaced(const std::filesystem::path& target, std::string_view content,
                                   mode_t mode = 0644);

// rename(2) then fsync of the target's directory: the swap primitive for files and symlinks.
Expected<void> rename_durable(const std::filesystem::path& from, const std::filesystem::path& to);

Expected<void> fsync_directory(const std::filesystem::path& dir);

// The whole content of `path`; an error names it.
Expected<std::string> read_file(const std::filesystem::path& path);

} // namespace slipway
