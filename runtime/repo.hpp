// An app's git repository: repos/APP.git, bare, whose hooks hand every push to slipway.
#pragma once

#include <filesystem>
#include <string>

#include "common/config.hpp"
#include "common/error.hpp"
#include "runtime/layout.hpp"

namespace slipway {

inline std::filesystem::path repo_dir(const Layout& layout, const std::string& app) {
  return layout.repo_dir(app);
}

// Creates the bare repository with pre-receive and post-receive hooks that exec
// `slipway_binary --root ROOT hook ...`. An existing repository keeps its history; its hooks
// are rewritten (so a moved binary can be picked up again).
Expected<void> create_repo(const Layout& layout, const std::string& app,
                           const std::filesystem::path& slipway_binary);

Expected<void> remove_repo(const Layout& layout, const std::string& app);

// The app whose repository a hook runs in (git runs hooks in the repository): `repo_path`
// must be ROOT/repos/APP.git for a valid, existing app.
Expected<std::string> app_of_repo(const Layout& layout, const std::filesystem::path& repo_path);

} // namespace slipway
