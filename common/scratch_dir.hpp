// A fresh directory (mkdtemp) that is removed, with everything in it, when the object goes.
#pragma once

#include <filesystem>
#include <string_view>

#include "common/error.hpp"

namespace slipway {

class ScratchDir {
public:
  // Creates PARENT/PREFIX-XXXXXX (PARENT is created when missing).
  static Expected<ScratchDir> create(const std::filesystem::path& parent, std::string_view prefix);

  ScratchDir(ScratchDir&& other) noexcept;
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir();

  const std::filesystem::path& path() const { return m_path; }

private:
  explicit ScratchDir(std::filesystem::path path) : m_path(std::move(path)) {}
  std::filesystem::path m_path;
};

} // namespace slipway
