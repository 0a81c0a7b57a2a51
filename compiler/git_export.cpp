#include "compiler/git_export.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <strings.h>

namespace slipway::git {

namespace fs = std::filesystem;

namespace {

// Pack windows are mmapped, and what is touched counts as resident: bound them so a large
// push does not make the hook large.
constexpr std::size_t k_mapped_limit = 64 << 20;

using Blob = std::unique_ptr<git_blob, Deleter<git_blob, git_blob_free>>;

class Exporter {
public:
  explicit Exporter(git_repository* repo) : m_repo(repo) {}

  Expected<void> tree(const git_tree* tree, int dir_fd, const std::string& prefix) {
    std::size_t count = git_tree_entrycount(tree);
    for (std::size_t i = 0; i < count; ++i) {
      const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
      std::string name = git_tree_entry_name(entry);
      std::string path = prefix + name;
      // git refuses such names, but a pushed tree is not necessarily made by git.
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
          strcasecmp(name.c_str(), ".git") == 0) {
        return fail("the commit holds an unsafe path '{}'", path);
      }
      git_filemode_t mode = git_tree_entry_filemode(entry);
      Expected<void> done;
      switch (mode) {
      case GIT_FILEMODE_TREE: done = subtree(entry, dir_fd, name, path); break;
      case GIT_FILEMODE_BLOB:
      case GIT_FILEMODE_BLOB_EXECUTABLE:
        done = file(entry, dir_fd, name, path, mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
        break;
      case GIT_FILEMODE_LINK: done = link(entry, dir_fd, name, path); break;
      case GIT_FILEMODE_COMMIT:
        return fail("submodule '{}' is not supported yet: vendor its files into the app or "
                    "remove it from .gitmodules",
                    path);
      default: return fail("'{}' has an unknown git file mode {:o}", path, static_cast<int>(mode));
      }
      if (!done) {
        return done;
      }
    }
    return {};
  }

  const ExportStats& stats() const { return m_stats; }

private:
  Expected<void> subtree(const git_tree_entry* entry, int dir_fd, const std::string& name,
                         const std::string& path) {
    git_tree* raw = nullptr;
    if (auto ok = check(git_tree_lookup(&raw, m_repo, git_tree_entry_id(entry)),
                        fmt::format("cannot read directory '{}'", path));
        !ok) {
      return ok;
    }
    Tree subtree(raw);
    if (mkdirat(dir_fd, name.c_str(), 0755) != 0) {
      return fail("cannot create '{}': {}", path, errno_text(errno));
    }
    int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return fail("cannot open '{}': {}", path, errno_text(errno));
    }
    auto done = tree(subtree.get(), fd, path + "/");
    close(fd);
    return done;
  }

  Expected<Blob> blob(const git_tree_entry* entry, const std::string& path) {
    git_blob* raw = nullptr;
    if (auto ok = check(git_blob_lookup(&raw, m_repo, git_tree_entry_id(entry)),
                        fmt::format("cannot read '{}'", path));
        !ok) {
      return std::unexpected(ok.error());
    }
    return Blob(raw);
  }

  Expected<void> file(const git_tree_entry* entry, int dir_fd, const std::string& name,
                      const std::string& path, mode_t mode) {
    auto content = blob(entry, path);
    if (!content) {
      return std::unexpected(content.error());
    }
    int fd = openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    mode);
    if (fd < 0) {
      return fail("cannot create '{}': {}", path, errno_text(errno));
    }
    const char* data = static_cast<const char*>(git_blob_rawcontent(content->get()));
    auto left = static_cast<std::size_t>(git_blob_rawsize(content->get()));
    m_stats.bytes += left;
    while (left > 0) {
      ssize_t n = write(fd, data, left);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        int err = errno;
        close(fd);
        return fail("cannot write '{}': {}", path, errno_text(err));
      }
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    ++m_stats.files;
    if (close(fd) != 0) {
      return fail("cannot write '{}': {}", path, errno_text(errno));
    }
    return {};
  }

  Expected<void> link(const git_tree_entry* entry, int dir_fd, const std::string& name,
                      const std::string& path) {
    auto content = blob(entry, path);
    if (!content) {
      return std::unexpected(content.error());
    }
    std::string target(static_cast<const char*>(git_blob_rawcontent(content->get())),
                       static_cast<std::size_t>(git_blob_rawsize(content->get())));
    if (symlinkat(target.c_str(), dir_fd, name.c_str()) != 0) {
      return fail("cannot create symlink '{}': {}", path, errno_text(errno));
    }
    ++m_stats.files;
    return {};
  }

  git_repository* m_repo;
  ExportStats m_stats;
};

} // namespace

Expected<Repository> open_from_environment() {
  ensure_initialised();
  git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, k_mapped_limit);
  git_repository* raw = nullptr;
  if (auto ok = check(git_repository_open_ext(&raw, nullptr, GIT_REPOSITORY_OPEN_FROM_ENV, nullptr),
                      "cannot open the pushed repository");
      !ok) {
    return std::unexpected(ok.error());
  }
  return Repository(raw);
}

Expected<Repository> open(const fs::path& path) {
  ensure_initialised();
  git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, k_mapped_limit);
  git_repository* raw = nullptr;
  if (auto ok = check(git_repository_open_bare(&raw, path.c_str()),
                      fmt::format("cannot open repository '{}'", path.string()));
      !ok) {
    return std::unexpected(ok.error());
  }
  return Repository(raw);
}

Expected<ExportStats> export_commit(git_repository* repo, const std::string& commit,
                                    const fs::path& dest) {
  git_oid id;
  if (git_oid_fromstr(&id, commit.c_str()) != 0) {
    return fail("'{}' is not a commit id", commit);
  }
  git_commit* raw_commit = nullptr;
  if (auto ok = check(git_commit_lookup(&raw_commit, repo, &id),
                      fmt::format("cannot read commit {}", commit.substr(0, 7)));
      !ok) {
    return std::unexpected(ok.error());
  }
  Commit found(raw_commit);
  git_tree* raw_tree = nullptr;
  if (auto ok = check(git_commit_tree(&raw_tree, found.get()),
                      fmt::format("cannot read the tree of {}", commit.substr(0, 7)));
      !ok) {
    return std::unexpected(ok.error());
  }
  Tree tree(raw_tree);
  int fd = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return fail("cannot open '{}': {}", dest.string(), errno_text(errno));
  }
  Exporter exporter(repo);
  auto done = exporter.tree(tree.get(), fd, "");
  close(fd);
  if (!done) {
    return std::unexpected(done.error());
  }
  return exporter.stats();
}

} // namespace slipway::git
