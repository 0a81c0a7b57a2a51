#include "common/scratch_dir.hpp"

#include <cerrno>
#include <stdlib.h>
#include <sys/stat.h>
#include <utility>

#include "common/tree.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<ScratchDir> ScratchDir::create(const fs::path& parent, std::string_view prefix,
                                        mode_t mode) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  std::string pattern = (parent / fmt::format("{}-XXXXXX", prefix)).string();
  if (!mkdtemp(pattern.data())) {
    return fail("cannot create a scratch directory in '{}': {}", parent.string(),
                errno_text(errno));
  }
  if (mode != 0700 && ::chmod(pattern.c_str(), mode) != 0) {
    int error = errno;
    ::rmdir(pattern.c_str());
    return fail("cannot set the mode of '{}': {}", pattern, errno_text(error));
  }
  return ScratchDir(pattern);
}

ScratchDir::ScratchDir(ScratchDir&& other) noexcept
    : m_path(std::exchange(other.m_path, {})), m_keep(other.m_keep) {}

ScratchDir::~ScratchDir() {
  if (!m_path.empty() && !m_keep) {
    [[maybe_unused]] auto removed = remove_tree(m_path);
  }
}

} // namespace slipway
