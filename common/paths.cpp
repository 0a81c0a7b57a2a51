#include "common/paths.hpp"

#include <cstdlib>

namespace slipway {

namespace fs = std::filesystem;

fs::path self_executable() {
  std::error_code ec;
  std::string path = fs::read_symlink("/proc/self/exe", ec).string();
  // Replaced on disk while this process runs (an upgrade under a running daemon): what it
  // starts from now on is the binary now at that path.
  constexpr std::string_view k_deleted = " (deleted)";
  if (path.ends_with(k_deleted)) {
    path.resize(path.size() - k_deleted.size());
  }
  return path;
}

fs::path builtin_buildpacks_dir() {
  if (const char* dir = std::getenv("SLIPWAY_BUILDPACKS_DIR"); dir && *dir) {
    return dir;
  }
  std::error_code ec;
  fs::path installed = self_executable().parent_path().parent_path() / "share/slipway/buildpacks";
  if (fs::is_directory(installed, ec)) {
    return installed;
  }
  return SLIPWAY_SOURCE_BUILDPACKS;
}

} // namespace slipway
