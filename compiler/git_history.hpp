// An app's commit history, read from its bare repository with libgit2: what `git log A..B`
// would list, and whether a commit is there at all. For saying what a deploy or a promotion
// brings (the commits between two releases) without running git.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"

namespace slipway::git {

struct CommitSummary {
  std::string id;      // full hex
  std::string author;  // author name
  std::string email;   // author email
  TimePoint time;      // author time
  std::string subject; // as git log's %s: the message's first paragraph on one line
};

// The commits reachable from `include` that are not reachable from `exclude` (git log
// exclude..include), newest first, at most `limit` (0: all), read from the bare repository at
// `repo_dir`. `extra_objects`, when not empty, is another repository's directory whose objects
// are also searched (added as an alternate object database in memory, never written to disk): the
// commit an app was promoted to may only exist in the repository of the app it was promoted from.
// `exclude` empty: everything reachable from include. A commit id that is not a 40-hex id is an
// error naming it; one that is in neither repository is an error "commit X is not in 'REPO'" (so
// the caller can say so). An `extra_objects` with no objects directory is an error, not ignored.
Expected<std::vector<CommitSummary>>
commits_between(const std::filesystem::path& repo_dir, const std::string& include,
                const std::string& exclude, std::size_t limit,
                const std::filesystem::path& extra_objects = {});

// The content of the file `path` (a plain relative path such as "app.json") in `commit`'s
// tree, or nullopt when the commit has no such file. An error for a malformed id or a commit
// the repository does not have.
Expected<std::optional<std::string>> file_at(const std::filesystem::path& repo_dir,
                                             const std::string& commit, const std::string& path);

// Whether `commit` (40-hex) is in the repository at repo_dir (its objects) as a commit.
Expected<bool> has_commit(const std::filesystem::path& repo_dir, const std::string& commit);

} // namespace slipway::git
