// Writes a commit's tree into a directory, as `git archive | tar -x` would: files with
// their modes, symlinks as symlinks, no .git. Written with libgit2 directly
// (docs/DECISIONS.md "A pushed commit is exported by slipway's own libgit2 tree walk":
// git_checkout_tree was measured 1.75x slower than the archive pipeline here).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/error.hpp"
#include "compiler/git.hpp"

namespace slipway::git {

struct ExportStats {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

// Opens the repository the way a git hook must: from GIT_DIR, GIT_OBJECT_DIRECTORY and
// GIT_ALTERNATE_OBJECT_DIRECTORIES, so objects still in the push's quarantine are found.
Expected<Repository> open_from_environment();

Expected<Repository> open(const std::filesystem::path& path);

// Exports `commit` (a hex id) into `dest`, which must exist and be empty. A submodule
// (gitlink) is an error naming it; so is an entry name that could escape `dest`.
Expected<ExportStats> export_commit(git_repository* repo, const std::string& commit,
                                    const std::filesystem::path& dest);

} // namespace slipway::git
