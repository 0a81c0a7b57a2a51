#include "compiler/source_tree.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<void> copy_source_tree(const fs::path& source, const fs::path& build_dir) {
  std::error_code ec;
  if (!fs::is_directory(source, ec)) {
    return usage_error("source '{}' is not a directory", source.string());
  }
  fs::create_directories(build_dir, ec);
  if (ec) {
    return fail("cannot create '{}': {}", build_dir.string(), ec.message());
  }
  for (const auto& entry : fs::directory_iterator(source, ec)) {
    if (entry.path().filename() == ".git") {
      continue;
    }
    fs::copy(entry.path(), build_dir / entry.path().filename(),
             fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) {
      return fail("cannot copy '{}': {}", entry.path().string(), ec.message());
    }
  }
  if (ec) {
    return fail("cannot read '{}': {}", source.string(), ec.message());
  }
  return {};
}

} // namespace slipway
