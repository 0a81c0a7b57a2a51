#include "common/scratch_dir.hpp"

#include <cerrno>
#include <stdlib.h>
#include <utility>

namespace slipway {

namespace fs = std::filesystem;

Expected<ScratchDir> ScratchDir::create(const fs::path& parent, std::string_view prefix) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  std::string pattern = (parent / fmt::format("{}-XXXXXX", prefix)).string();
  if (!mkdtemp(pattern.data())) {
    return fail("cannot create a scratch directory in '{}': {}", parent.string(),
                errno_text(errno));
  }
  return ScratchDir(pattern);
}

ScratchDir::ScratchDir(ScratchDir&& other) noexcept
    : m_path(std::exchange(other.m_path, {})), m_keep(other.m_keep) {}

ScratchDir::~ScratchDir() {
  if (!m_path.empty() && !m_keep) {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
}

} // namespace slipway
