#include "compiler/git_export.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <strings.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace slipway::git {

namespace fs = std::filesystem;

namespace {

// Pack windows are mmapped, and what is touched counts as resident: bound them so a large
// push does not make the hook large.
constexpr std::size_t k_mapped_limit = 64 << 20;

// A file or symlink to write once the directories exist.
struct Job {
  std::string path; // relative to the export root
  git_oid id;
  git_filemode_t mode;
};

// First pass, on one thread: checks every name, creates every directory, lists the rest.
class Planner {
 public:
  Planner(git_repository* repo, int root_fd) : m_repo(repo), m_root_fd(root_fd) {}

  Expected<void> tree(const git_tree* tree, const std::string& prefix) {
    std::size_t count = libgit2::git_tree_entrycount(tree);
    for (std::size_t i = 0; i < count; ++i) {
      const git_tree_entry* entry = libgit2::git_tree_entry_byindex(tree, i);
      std::string name = libgit2::git_tree_entry_name(entry);
      std::string path = prefix + name;
      // git refuses such names, but a pushed tree is not necessarily made by git.
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
          strcasecmp(name.c_str(), ".git") == 0) {
        return fail("the commit holds an unsafe path '{}'", path);
      }
      git_filemode_t mode = libgit2::git_tree_entry_filemode(entry);
      switch (mode) {
      case GIT_FILEMODE_TREE: {
        git_tree* raw = nullptr;
        TRY(check(libgit2::git_tree_lookup(&raw, m_repo, libgit2::git_tree_entry_id(entry)),
                  fmt::format("cannot read directory '{}'", path)));
        Tree subtree(raw);
        if (mkdirat(m_root_fd, path.c_str(), 0755) != 0) {
          return fail("cannot create '{}': {}", path, errno_text(errno));
        }
        TRY(this->tree(subtree.get(), path + "/"));
        break;
      }
      case GIT_FILEMODE_BLOB:
      case GIT_FILEMODE_BLOB_EXECUTABLE:
      case GIT_FILEMODE_LINK:
        m_jobs.push_back({path, *libgit2::git_tree_entry_id(entry), mode});
        break;
      case GIT_FILEMODE_COMMIT:
        return fail("submodule '{}' is not supported yet: vendor its files into the app or "
                    "remove it from .gitmodules",
                    path);
      default:
        return fail("'{}' has an unknown git file mode {:o}", path, static_cast<int>(mode));
      }
    }
    return {};
  }

  std::vector<Job>& jobs() { return m_jobs; }

 private:
  git_repository* m_repo;
  int m_root_fd;
  std::vector<Job> m_jobs;
};

// Second pass, on several threads: reads blobs from the object database (which libgit2
// lets threads share) and writes them.
class Writer {
 public:
  Writer(git_odb* odb, int root_fd, const std::vector<Job>& jobs)
      : m_odb(odb), m_root_fd(root_fd), m_jobs(jobs) {}

  void work() {
    for (std::size_t i = m_next++; i < m_jobs.size() && !m_failed; i = m_next++) {
      if (auto done = write(m_jobs[i]); !done) {
        std::lock_guard lock(m_mutex);
        if (!m_failed.exchange(true)) {
          m_error = done.error();
        }
      }
    }
  }

  Expected<ExportStats> result() const {
    if (m_failed) {
      return std::unexpected(m_error);
    }
    return ExportStats{m_files, m_bytes};
  }

 private:
  Expected<void> write(const Job& job) {
    git_odb_object* raw = nullptr;
    TRY(check(libgit2::git_odb_read(&raw, m_odb, &job.id),
              fmt::format("cannot read '{}'", job.path)));
    OdbObject object(raw);
    const char* data = static_cast<const char*>(libgit2::git_odb_object_data(object.get()));
    std::size_t size = libgit2::git_odb_object_size(object.get());
    if (job.mode == GIT_FILEMODE_LINK) {
      std::string target(data, size);
      if (symlinkat(target.c_str(), m_root_fd, job.path.c_str()) != 0) {
        return fail("cannot create symlink '{}': {}", job.path, errno_text(errno));
      }
      ++m_files;
      return {};
    }
    mode_t mode = job.mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
    int fd = openat(m_root_fd, job.path.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
      return fail("cannot create '{}': {}", job.path, errno_text(errno));
    }
    std::size_t left = size;
    while (left > 0) {
      ssize_t n = ::write(fd, data, left);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        int err = errno;
        close(fd);
        return fail("cannot write '{}': {}", job.path, errno_text(err));
      }
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    if (close(fd) != 0) {
      return fail("cannot write '{}': {}", job.path, errno_text(errno));
    }
    ++m_files;
    m_bytes += size;
    return {};
  }

  git_odb* m_odb;
  int m_root_fd;
  const std::vector<Job>& m_jobs;
  std::atomic<std::size_t> m_next = 0;
  std::atomic<bool> m_failed = false;
  std::atomic<std::uint64_t> m_files = 0;
  std::atomic<std::uint64_t> m_bytes = 0;
  std::mutex m_mutex;
  Error m_error;
};

} // namespace

Expected<Repository> open_from_environment() {
  ensure_initialised();
  libgit2::git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, k_mapped_limit);
  git_repository* raw = nullptr;
  TRY(check(libgit2::git_repository_open_ext(&raw, nullptr, GIT_REPOSITORY_OPEN_FROM_ENV, nullptr),
            "cannot open the pushed repository"));
  return Repository(raw);
}

Expected<Repository> open(const fs::path& path) {
  ensure_initialised();
  libgit2::git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, k_mapped_limit);
  git_repository* raw = nullptr;
  TRY(check(libgit2::git_repository_open_bare(&raw, path.c_str()),
            fmt::format("cannot open repository '{}'", path.string())));
  return Repository(raw);
}

Expected<ExportStats> export_commit(git_repository* repo, const std::string& commit,
                                    const fs::path& dest) {
  git_oid id;
  if (libgit2::git_oid_fromstr(&id, commit.c_str()) != 0) {
    return fail("'{}' is not a commit id", commit);
  }
  git_commit* raw_commit = nullptr;
  TRY(check(libgit2::git_commit_lookup(&raw_commit, repo, &id),
            fmt::format("cannot read commit {}", commit.substr(0, 7))));
  Commit found(raw_commit);
  git_tree* raw_tree = nullptr;
  TRY(check(libgit2::git_commit_tree(&raw_tree, found.get()),
            fmt::format("cannot read the tree of {}", commit.substr(0, 7))));
  Tree tree(raw_tree);
  int fd = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return fail("cannot open '{}': {}", dest.string(), errno_text(errno));
  }
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { close(*f); });
  Planner planner(repo, fd);
  TRY(planner.tree(tree.get(), ""));
  git_odb* raw_odb = nullptr;
  TRY(check(libgit2::git_repository_odb(&raw_odb, repo), "cannot open the object database"));
  Odb odb(raw_odb);
  // Inflating and writing overlap across threads, as `git archive | tar -x` overlaps them
  // across processes.
  Writer writer(odb.get(), fd, planner.jobs());
  unsigned threads = std::max(2u, std::min(4u, std::thread::hardware_concurrency()));
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t) {
    workers.emplace_back([&writer] { writer.work(); });
  }
  writer.work();
  for (auto& worker : workers) {
    worker.join();
  }
  return writer.result();
}

} // namespace slipway::git
