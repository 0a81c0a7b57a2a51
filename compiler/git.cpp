#include "compiler/git.hpp"

#include <fstream>
#include <mutex>

namespace slipway::git {

void ensure_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { libgit2::git_libgit2_init(); });
}

Expected<void> check(int rc, std::string_view what) {
  if (rc >= 0) {
    return {};
  }
  const git_error* error = libgit2::git_error_last();
  return fail("{}: {}", what, error && error->message ? error->message : "unknown libgit2 error");
}

std::string oid_hex(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1] = {};
  libgit2::git_oid_tostr(hex, sizeof hex, &oid);
  return hex;
}

Expected<std::string> clone(const std::string& url, const std::string& ref,
                            const std::filesystem::path& dest) {
  ensure_initialised();
  git_clone_options options = GIT_CLONE_OPTIONS_INIT;
  git_repository* raw_repo = nullptr;
  TRY(check(libgit2::git_clone(&raw_repo, url.c_str(), dest.c_str(), &options),
            fmt::format("cannot clone '{}'", url)));
  Repository repo(raw_repo);

  git_object* raw_target = nullptr;
  if (ref.empty()) {
    TRY(check(libgit2::git_revparse_single(&raw_target, repo.get(), "HEAD^{commit}"),
              fmt::format("'{}' has no commits", url)));
  } else {
    // A branch exists only as a remote-tracking ref after a clone; tags and ids as given.
    for (const auto& spec : {"origin/" + ref, ref}) {
      if (libgit2::git_revparse_single(&raw_target, repo.get(), (spec + "^{commit}").c_str()) ==
          0) {
        break;
      }
    }
    if (!raw_target) {
      return fail("'{}' has no branch, tag or commit '{}'", url, ref);
    }
  }
  Object target(raw_target);
  git_checkout_options checkout = GIT_CHECKOUT_OPTIONS_INIT;
  checkout.checkout_strategy = GIT_CHECKOUT_FORCE;
  TRY(check(libgit2::git_checkout_tree(repo.get(), target.get(), &checkout),
            fmt::format("cannot check out '{}' of '{}'", ref, url)));
  const git_oid* id = libgit2::git_object_id(target.get());
  TRY(check(libgit2::git_repository_set_head_detached(repo.get(), id),
            fmt::format("cannot check out '{}' of '{}'", ref, url)));
  return oid_hex(*id);
}

Expected<std::optional<std::string>> read_ref(const std::filesystem::path& repo_dir,
                                              const std::string& ref) {
  ensure_initialised();
  git_repository* raw_repo = nullptr;
  TRY(check(libgit2::git_repository_open_bare(&raw_repo, repo_dir.c_str()),
            fmt::format("cannot open '{}'", repo_dir.string())));
  Repository repo(raw_repo);
  git_oid id;
  int rc = libgit2::git_reference_name_to_id(&id, repo.get(), ref.c_str());
  if (rc == GIT_ENOTFOUND) {
    return std::optional<std::string>();
  }
  TRY(check(rc, fmt::format("cannot read '{}' of '{}'", ref, repo_dir.string())));
  return std::optional<std::string>(oid_hex(id));
}

Expected<std::vector<std::string>> remove_stale_locks(const std::filesystem::path& repo_dir,
                                                      const std::string& ref) {
  ensure_initialised();
  int valid = 0;
  if (libgit2::git_reference_name_is_valid(&valid, ref.c_str()) < 0 || !valid ||
      !ref.starts_with("refs/heads/")) {
    return fail("'{}' is not a branch", ref);
  }
  std::vector<std::string> names{ref + ".lock"};
  // HEAD is locked too when it points at the branch (git records its reflog).
  std::ifstream in(repo_dir / "HEAD");
  std::string line;
  if (std::getline(in, line) && line == "ref: " + ref) {
    names.push_back("HEAD.lock");
  }
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& name : names) {
    if (std::filesystem::remove(repo_dir / name, ec)) {
      removed.push_back(name);
    } else if (ec) {
      return fail("cannot remove '{}': {}", (repo_dir / name).string(), ec.message());
    }
  }
  return removed;
}

} // namespace slipway::git
