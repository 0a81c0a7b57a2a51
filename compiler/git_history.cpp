#include "compiler/git_history.hpp"

#include <chrono>
#include <optional>

#include "compiler/git.hpp"
#include "compiler/git_export.hpp"

namespace slipway::git {

namespace {

// Ids come from release records and API requests: only a full lowercase id is taken, so
// that git_oid_fromstr (which reads 40 hex digits of any case and ignores what follows)
// never sees a prefix, a ref name or a path.
bool is_commit_id(const std::string& id) {
  if (id.size() != GIT_OID_HEXSZ) {
    return false;
  }
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

Expected<git_oid> parse_id(const std::string& id) {
  git_oid oid;
  if (!is_commit_id(id) || libgit2::git_oid_fromstr(&oid, id.c_str()) != 0) {
    return fail("'{}' is not a commit id", id);
  }
  return oid;
}

// The commit `id`, or nullopt when the repository has no commit by that id (libgit2 says
// GIT_ENOTFOUND for an object of another type too).
Expected<std::optional<Commit>> find_commit(git_repository* repo, const git_oid& id,
                                            const std::string& hex) {
  git_commit* raw = nullptr;
  int rc = libgit2::git_commit_lookup(&raw, repo, &id);
  if (rc == GIT_ENOTFOUND) {
    return std::optional<Commit>();
  }
  TRY(check(rc, fmt::format("cannot read commit {}", hex)));
  return std::optional<Commit>(Commit(raw));
}

CommitSummary summarise(git_commit* commit) {
  CommitSummary summary;
  summary.id = oid_hex(*libgit2::git_commit_id(commit));
  if (const git_signature* author = libgit2::git_commit_author(commit)) {
    summary.author = author->name ? author->name : "";
    summary.email = author->email ? author->email : "";
    summary.time = TimePoint(std::chrono::seconds(author->when.time));
  }
  // Null only when libgit2 could not allocate it: an empty subject then, not a failure.
  if (const char* subject = libgit2::git_commit_summary(commit)) {
    summary.subject = subject;
  }
  return summary;
}

} // namespace

Expected<std::vector<CommitSummary>> commits_between(const std::filesystem::path& repo_dir,
                                                     const std::string& include,
                                                     const std::string& exclude, std::size_t limit,
                                                     const std::filesystem::path& extra_objects) {
  // Ids are checked before the repository is opened: a malformed one is the caller's error
  // whatever the repository holds.
  git_oid include_id = TRY(parse_id(include));
  std::optional<git_oid> exclude_id;
  if (!exclude.empty()) {
    exclude_id = TRY(parse_id(exclude));
  }
  Repository repo = TRY(open(repo_dir));
  std::string where = fmt::format("'{}'", repo_dir.string());
  if (!extra_objects.empty()) {
    // libgit2 skips an alternate whose directory is missing without a word; a caller that
    // names one expects its objects, so a missing one is said here.
    std::filesystem::path objects = extra_objects / "objects";
    std::error_code ec;
    if (!std::filesystem::is_directory(objects, ec)) {
      return fail("'{}' is not a repository: no objects directory", extra_objects.string());
    }
    git_odb* raw_odb = nullptr;
    TRY(check(libgit2::git_repository_odb(&raw_odb, repo.get()),
              fmt::format("cannot open the objects of '{}'", repo_dir.string())));
    Odb odb(raw_odb);
    // In memory only: the repository's objects/info/alternates is left as it is.
    TRY(check(libgit2::git_odb_add_disk_alternate(odb.get(), objects.c_str()),
              fmt::format("cannot add the objects of '{}'", extra_objects.string())));
    where = fmt::format("'{}' or '{}'", repo_dir.string(), extra_objects.string());
  }

  // Both ends are looked up first, so that a missing one is reported as missing rather than
  // as whatever the revision walk makes of it.
  auto require = [&](const git_oid& id, const std::string& hex) -> Expected<void> {
    if (!TRY(find_commit(repo.get(), id, hex))) {
      return fail("commit {} is not in {}", hex, where);
    }
    return {};
  };
  TRY(require(include_id, include));
  if (exclude_id) {
    TRY(require(*exclude_id, exclude));
  }

  git_revwalk* raw_walk = nullptr;
  TRY(check(libgit2::git_revwalk_new(&raw_walk, repo.get()),
            fmt::format("cannot read the history of '{}'", repo_dir.string())));
  Revwalk walk(raw_walk);
  // Topological as well as by time: a parent is never listed before its child, whatever
  // the clocks of the machines that made them said.
  TRY(check(libgit2::git_revwalk_sorting(walk.get(), GIT_SORT_TIME | GIT_SORT_TOPOLOGICAL),
            "cannot sort the history"));
  TRY(check(libgit2::git_revwalk_push(walk.get(), &include_id),
            fmt::format("cannot read the history of {}", include)));
  if (exclude_id) {
    TRY(check(libgit2::git_revwalk_hide(walk.get(), &*exclude_id),
              fmt::format("cannot read the history of {}", exclude)));
  }

  std::vector<CommitSummary> commits;
  git_oid next;
  while (limit == 0 || commits.size() < limit) {
    int rc = libgit2::git_revwalk_next(&next, walk.get());
    if (rc == GIT_ITEROVER) {
      break;
    }
    TRY(check(rc, fmt::format("cannot read the history of {}", include)));
    git_commit* raw_commit = nullptr;
    std::string hex = oid_hex(next);
    TRY(check(libgit2::git_commit_lookup(&raw_commit, repo.get(), &next),
              fmt::format("cannot read commit {}", hex)));
    Commit commit(raw_commit);
    commits.push_back(summarise(commit.get()));
  }
  return commits;
}

Expected<bool> has_commit(const std::filesystem::path& repo_dir, const std::string& commit) {
  git_oid id = TRY(parse_id(commit));
  Repository repo = TRY(open(repo_dir));
  return TRY(find_commit(repo.get(), id, commit)).has_value();
}

Expected<std::optional<std::string>> file_at(const std::filesystem::path& repo_dir,
                                             const std::string& commit, const std::string& path) {
  git_oid id = TRY(parse_id(commit));
  if (path.empty() || path.starts_with('/') || path.find(':') != std::string::npos) {
    return fail("'{}' is not a path in a tree", path);
  }
  Repository repo = TRY(open(repo_dir));
  if (!TRY(find_commit(repo.get(), id, commit))) {
    return fail("commit {} is not in '{}'", commit, repo_dir.string());
  }
  git_object* raw = nullptr;
  int rc = libgit2::git_revparse_single(&raw, repo.get(), (commit + ":" + path).c_str());
  if (rc == GIT_ENOTFOUND) {
    return std::optional<std::string>();
  }
  TRY(check(rc, fmt::format("cannot read {} of {}", path, commit.substr(0, 7))));
  Object object(raw);
  git_odb* raw_odb = nullptr;
  TRY(check(libgit2::git_repository_odb(&raw_odb, repo.get()), "cannot open the object database"));
  Odb odb(raw_odb);
  git_odb_object* raw_data = nullptr;
  TRY(check(libgit2::git_odb_read(&raw_data, odb.get(), libgit2::git_object_id(object.get())),
            fmt::format("cannot read {} of {}", path, commit.substr(0, 7))));
  OdbObject data(raw_data);
  if (libgit2::git_odb_object_type(data.get()) != GIT_OBJECT_BLOB) {
    return std::optional<std::string>(); // a directory of that name: no such file
  }
  return std::optional<std::string>(
      std::string(static_cast<const char*>(libgit2::git_odb_object_data(data.get())),
                  libgit2::git_odb_object_size(data.get())));
}

} // namespace slipway::git
