// libgit2, wrapped once: RAII handles for the object types slipway uses and one
// git_check() that turns a libgit2 failure into an Error carrying git_error_last().
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "compiler/libgit2.hpp"

namespace slipway::git {

// Initialises libgit2 once per process.
void ensure_initialised();

// Ok when rc >= 0; else an Error "what: libgit2's message".
Expected<void> check(int rc, std::string_view what);

// A handle to what libgit2 handed out, freed by libgit2's TYPE_free.
#define SLIPWAY_GIT_HANDLE(Name, Type)                                                             \
  struct Name##Free {                                                                              \
    void operator()(Type* p) const { libgit2::Type##_free(p); }                                    \
  };                                                                                               \
  using Name = std::unique_ptr<Type, Name##Free>
SLIPWAY_GIT_HANDLE(Repository, git_repository);
SLIPWAY_GIT_HANDLE(Object, git_object);
SLIPWAY_GIT_HANDLE(Commit, git_commit);
SLIPWAY_GIT_HANDLE(Tree, git_tree);
SLIPWAY_GIT_HANDLE(Odb, git_odb);
SLIPWAY_GIT_HANDLE(OdbObject, git_odb_object);
SLIPWAY_GIT_HANDLE(Revwalk, git_revwalk);
SLIPWAY_GIT_HANDLE(Config, git_config);
#undef SLIPWAY_GIT_HANDLE

std::string oid_hex(const git_oid& oid);

// Clones `url` into `dest` and checks out `ref` (a branch, tag or commit; empty: the
// remote's default branch). Returns the checked-out commit's id.
Expected<std::string> clone(const std::string& url, const std::string& ref,
                            const std::filesystem::path& dest);

// The commit `ref` ("refs/heads/main") names in the repository at `repo_dir`, or nullopt
// when there is no such ref.
Expected<std::optional<std::string>> read_ref(const std::filesystem::path& repo_dir,
                                              const std::string& ref);

// Removes the lock files a receive-pack killed while it updated `ref` leaves behind —
// `ref`.lock, and HEAD.lock when HEAD points at `ref` — which would refuse every later
// push to that branch. Only for a receive-pack known to be gone, and when no other can be
// updating `ref`. Returns the names of the files removed.
Expected<std::vector<std::string>> remove_stale_locks(const std::filesystem::path& repo_dir,
                                                      const std::string& ref);

} // namespace slipway::git
