#include "common/files.hpp"

#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fd.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<AtomicFile> AtomicFile::create(fs::path target, mode_t mode) {
  fs::path temp = target;
  temp += ".tmp.XXXXXX";
  std::string pattern = temp.string();
  int fd = mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) {
    return fail("cannot create a temporary file beside '{}': {}", target.string(),
                errno_text(errno));
  }
  if (fchmod(fd, mode) != 0) {
    int err = errno;
    close(fd);
    unlink(pattern.c_str());
    return fail("cannot set the mode of '{}': {}", pattern, errno_text(err));
  }
  return AtomicFile(std::move(target), pattern, fd);
}

AtomicFile::AtomicFile(fs::path target, fs::path temp, int fd)
    : m_target(std::move(target)), m_temp(std::move(temp)), m_fd(fd) {}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : m_target(std::move(other.m_target)), m_temp(std::move(other.m_temp)), m_fd(other.m_fd) {
  other.m_fd = -1;
  other.m_temp.clear();
}

AtomicFile::~AtomicFile() {
  if (m_fd >= 0) {
    close(m_fd);
  }
  if (!m_temp.empty()) {
    unlink(m_temp.c_str());
  }
}

Expected<void> AtomicFile::write(std::string_view data) {
  if (auto written = write_all(m_fd, data); !written) {
    return fail("cannot write '{}': {}", m_temp.string(), written.error().message);
  }
  return {};
}

Expected<void> AtomicFile::commit() {
  if (fsync(m_fd) != 0) {
    return fail("cannot write '{}': {}", m_temp.string(), errno_text(errno));
  }
  int rc = close(m_fd);
  m_fd = -1;
  if (rc != 0) {
    return fail("cannot write '{}': {}", m_temp.string(), errno_text(errno));
  }
  TRY(rename_durable(m_temp, m_target));
  m_temp.clear();
  return {};
}

Expected<void> write_file_atomic(const fs::path& target, std::string_view content, mode_t mode) {
  auto file = TRY(AtomicFile::create(target, mode));
  TRY(file.write(content));
  return file.commit();
}

Expected<void> write_file_replaced(const fs::path& target, std::string_view content, mode_t mode) {
  auto file = TRY(AtomicFile::create(target, mode));
  TRY(file.write(content));
  return file.commit_unsynced();
}

Expected<void> AtomicFile::commit_unsynced() {
  int rc = close(m_fd);
  m_fd = -1;
  if (rc != 0) {
    return fail("cannot write '{}': {}", m_temp.string(), errno_text(errno));
  }
  if (::rename(m_temp.c_str(), m_target.c_str()) != 0) {
    return fail("cannot rename '{}' to '{}': {}", m_temp.string(), m_target.string(),
                errno_text(errno));
  }
  m_temp.clear();
  return {};
}

Expected<void> rename_durable(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return fail("cannot rename '{}' to '{}': {}", from.string(), to.string(), errno_text(errno));
  }
  return fsync_directory(to.has_parent_path() ? to.parent_path() : fs::path("."));
}

Expected<void> fsync_directory(const fs::path& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return fail("cannot open directory '{}': {}", dir.string(), errno_text(errno));
  }
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) {
    return fail("cannot sync directory '{}': {}", dir.string(), errno_text(err));
  }
  return {};
}

Expected<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail("cannot read '{}': {}", path.string(), errno_text(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  return std::move(content).str();
}

} // namespace slipway
