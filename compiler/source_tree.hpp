// Filling a build dir from a directory on disk (`slipway build`, `slipway deploy`); the
// git hook fills it from a commit instead.
#pragma once

#include <filesystem>

#include "common/error.hpp"

namespace slipway {

// Copies `source` into `build_dir` (created), files, modes and symlinks as they are,
// leaving out a top-level .git.
Expected<void> copy_source_tree(const std::filesystem::path& source,
                                const std::filesystem::path& build_dir);

} // namespace slipway
