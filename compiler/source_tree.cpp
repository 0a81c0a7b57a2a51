#include "compiler/source_tree.hpp"

#include "common/tree.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<void> copy_source_tree(const fs::path& source, const fs::path& build_dir) {
  std::error_code ec;
  if (!fs::is_directory(source, ec)) {
    return usage_error("source '{}' is not a directory", source.string());
  }
  fs::create_directories(build_dir.parent_path(), ec);
  return copy_tree(source, build_dir, {.skip_top = {".git"}});
}

} // namespace slipway
