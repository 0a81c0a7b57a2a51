// A fresh directory (mkdtemp) that is removed, with everything in it, when the object goes
// (whatever the sandbox that used it left there: remove_tree in tree.hpp).
#pragma once

#include <filesystem>
#include <string_view>
#include <sys/types.h>

#include "common/error.hpp"

namespace slipway {

class ScratchDir {
 public:
  // Creates PARENT/PREFIX-XXXXXX (PARENT is created when missing) with `mode` (0711 lets a
  // sandbox's uid reach what is bound from inside it).
  static Expected<ScratchDir> create(const std::filesystem::path& parent, std::string_view prefix,
                                     mode_t mode = 0700);

  ScratchDir(ScratchDir&& other) noexcept;
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir();

  const std::filesystem::path& path() const { return m_path; }
  // Keeps the directory when the object goes: someone else will remove it.
  void release() { m_keep = true; }

 private:
  explicit ScratchDir(std::filesystem::path path) : m_path(std::move(path)) {}
  std::filesystem::path m_path;
  bool m_keep = false;
};

} // namespace slipway
