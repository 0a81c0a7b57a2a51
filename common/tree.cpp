#include "common/tree.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <functional>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/config.hpp"
#include "common/fd.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// A walk deeper than this fails (copy, chown); removal moves deeper parts up instead.
constexpr int k_max_depth = 512;
constexpr int k_remove_depth = 64;
constexpr std::uint64_t k_inode_charge = 4096;

UniqueFd open_at2(int dir_fd, std::string_view relative, int flags) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  std::string path(relative.empty() ? "." : relative);
  long fd = 0;
  do {
    fd = syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN); // a rename raced with the lookup: look again
  return UniqueFd(static_cast<int>(fd));
}

std::string describe_open_error(std::string_view relative, int error) {
  if (error == EXDEV || error == ELOOP) {
    return fmt::format("'{}' is a symlink out of the app", relative);
  }
  return fmt::format("cannot open '{}': {}", relative, errno_text(error));
}

Expected<UniqueFd> open_directory(const fs::path& path, int extra_flags = 0) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | extra_flags));
  if (!fd) {
    return fail("cannot open '{}': {}", path.string(), errno_text(errno));
  }
  return fd;
}

// The names in a directory (without "." and ".."), read through a duplicate of `dir_fd`.
Expected<std::vector<std::string>> list_names(int dir_fd, std::string_view shown) {
  int copy = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    return fail("cannot read '{}': {}", shown, errno_text(errno));
  }
  DIR* dir = ::fdopendir(copy);
  if (!dir) {
    int error = errno;
    ::close(copy);
    return fail("cannot read '{}': {}", shown, errno_text(error));
  }
  ::rewinddir(dir);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  int error = errno;
  ::closedir(dir);
  if (error != 0) {
    return fail("cannot read '{}': {}", shown, errno_text(error));
  }
  return names;
}

std::string join(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : fmt::format("{}/{}", prefix, name);
}

// Opens the directory ROOT/RELATIVE beneath ROOT, creating what is missing on the way.
Expected<UniqueFd> open_directory_creating(int root_fd, std::string_view relative) {
  std::string prefix;
  UniqueFd current(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  std::string_view rest = relative;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (part.empty() || part == ".") {
      continue;
    }
    prefix = join(prefix, part);
    UniqueFd next = open_at2(root_fd, prefix, O_RDONLY | O_DIRECTORY);
    if (!next && errno == ENOENT) {
      if (::mkdirat(current.get(), std::string(part).c_str(), 0755) != 0 && errno != EEXIST) {
        return fail("cannot create '{}': {}", prefix, errno_text(errno));
      }
      next = open_at2(root_fd, prefix, O_RDONLY | O_DIRECTORY);
    }
    if (!next) {
      return fail("{}", describe_open_error(prefix, errno));
    }
    current = std::move(next);
  }
  return current;
}

Expected<void> write_all(int fd, std::string_view data, std::string_view shown) {
  if (auto written = slipway::write_all(fd, data); !written) {
    return fail("cannot write '{}': {}", shown, written.error().message);
  }
  return {};
}

// Reads `fd` to its end, handing each chunk to `sink`, which may stop it with an error.
Expected<void> read_chunks(int fd, std::string_view shown,
                           const std::function<Expected<void>(std::string_view)>& sink) {
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail("cannot read '{}': {}", shown, errno_text(errno));
    }
    if (n == 0) {
      return {};
    }
    TRY(sink(std::string_view(buffer, static_cast<std::size_t>(n))));
  }
}

// ---------------------------------------------------------------- removal

// Makes the directory `fd` writable and searchable by its owner.
void open_up(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700) {
    ::fchmod(fd, (st.st_mode & 07777) | 0700);
  }
}

int unlink_opening_up(int dir_fd, const std::string& name, int flags) {
  if (::unlinkat(dir_fd, name.c_str(), flags) == 0) {
    return 0;
  }
  if (errno != EACCES && errno != EPERM) {
    return -1;
  }
  open_up(dir_fd);
  return ::unlinkat(dir_fd, name.c_str(), flags);
}

// Removes everything inside `dir_fd`; directories deeper than k_remove_depth are moved up
// into `top_fd` (as .slipway-deep-N) for the next pass, so no walk holds too many fds.
Expected<void> empty_directory(int dir_fd, int top_fd, int depth, long& moved, long& next_name,
                               const std::string& shown) {
  open_up(dir_fd);
  auto names = TRY(list_names(dir_fd, shown));
  for (const auto& name : names) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) {
        continue;
      }
      return fail("cannot remove '{}': {}", join(shown, name), errno_text(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
      if (unlink_opening_up(dir_fd, name, 0) != 0 && errno != ENOENT) {
        return fail("cannot remove '{}': {}", join(shown, name), errno_text(errno));
      }
      continue;
    }
    if (depth >= k_remove_depth) {
      // A name the tree may hold itself is skipped, never replaced.
      int rc = -1;
      do {
        std::string up = fmt::format(".slipway-deep-{}", next_name++);
        rc = ::renameat2(dir_fd, name.c_str(), top_fd, up.c_str(), RENAME_NOREPLACE);
      } while (rc != 0 && errno == EEXIST);
      if (rc != 0) {
        return fail("cannot remove '{}': {}", join(shown, name), errno_text(errno));
      }
      ++moved;
      continue;
    }
    UniqueFd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub && errno == EACCES) {
      ::fchmodat(dir_fd, name.c_str(), 0700, 0);
      sub.reset(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!sub) {
      return fail("cannot remove '{}': {}", join(shown, name), errno_text(errno));
    }
    std::string inner = join(shown, name);
    TRY(empty_directory(sub.get(), top_fd, depth + 1, moved, next_name, inner));
    sub.reset();
    if (unlink_opening_up(dir_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return fail("cannot remove '{}': {}", inner, errno_text(errno));
    }
  }
  return {};
}

// ---------------------------------------------------------------- copying

Expected<void> copy_file_contents(int in, int out, std::string_view shown) {
  while (true) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
    if (n == 0) {
      return {};
    }
    if (n > 0) {
      continue;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
      return fail("cannot copy '{}': {}", shown, errno_text(errno));
    }
    break; // not across these filesystems: copy by hand from where it stopped
  }
  return read_chunks(in, shown,
                     [&](std::string_view chunk) { return write_all(out, chunk, shown); });
}

class TreeCopier {
 public:
  explicit TreeCopier(const CopyOptions& options) : m_options(options) {}

  Expected<void> directory(int from, int to, int depth, const std::string& shown) {
    if (depth > k_max_depth) {
      return fail("cannot copy '{}': nested more than {} directories deep", shown, k_max_depth);
    }
    auto names = TRY(list_names(from, shown));
    for (const auto& name : names) {
      if (depth == 0 && std::ranges::find(m_options.skip_top, name) != m_options.skip_top.end()) {
        continue;
      }
      TRY(entry(from, to, name, depth, join(shown, name)));
    }
    return {};
  }

 private:
  Expected<void> entry(int from, int to, const std::string& name, int depth,
                       const std::string& shown) {
    struct stat st {};
    if (::fstatat(from, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return fail("cannot copy '{}': {}", shown, errno_text(errno));
    }
    const mode_t mode = st.st_mode & 01777; // never set-user-ID or set-group-ID
    const timespec times[2] = {st.st_atim, st.st_mtim};
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to, name.c_str(), 0700) != 0) {
        return fail("cannot create '{}': {}", shown, errno_text(errno));
      }
      UniqueFd in(::openat(from, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd out(::openat(to, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!in || !out) {
        return fail("cannot copy '{}': {}", shown, errno_text(errno));
      }
      TRY(directory(in.get(), out.get(), depth + 1, shown));
      return finish(out.get(), mode, times, shown);
    }
    if (S_ISREG(st.st_mode)) {
      UniqueFd in(::openat(from, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!in) {
        return fail("cannot copy '{}': {}", shown, errno_text(errno));
      }
      UniqueFd out(
          ::openat(to, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!out) {
        return fail("cannot create '{}': {}", shown, errno_text(errno));
      }
      TRY(copy_file_contents(in.get(), out.get(), shown));
      return finish(out.get(), mode, times, shown);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(from, name.c_str(), target.data(), target.size());
      if (n < 0 || static_cast<std::size_t>(n) >= target.size()) {
        return fail("cannot read symlink '{}': {}", shown, errno_text(n < 0 ? errno : EOVERFLOW));
      }
      target.resize(static_cast<std::size_t>(n));
      if (::symlinkat(target.c_str(), to, name.c_str()) != 0) {
        return fail("cannot create '{}': {}", shown, errno_text(errno));
      }
      if (m_options.owner && ::fchownat(to, name.c_str(), m_options.owner->uid,
                                        m_options.owner->gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return fail("cannot give '{}' to uid {}: {}", shown, m_options.owner->uid,
                    errno_text(errno));
      }
      ::utimensat(to, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
      return {};
    }
    return fail("cannot copy '{}': not a regular file, directory or symlink", shown);
  }

  Expected<void> finish(int fd, mode_t mode, const timespec* times, const std::string& shown) {
    if (m_options.owner && ::fchown(fd, m_options.owner->uid, m_options.owner->gid) != 0) {
      return fail("cannot give '{}' to uid {}: {}", shown, m_options.owner->uid, errno_text(errno));
    }
    if (::fchmod(fd, mode) != 0) {
      return fail("cannot set the mode of '{}': {}", shown, errno_text(errno));
    }
    ::futimens(fd, times);
    return {};
  }

  const CopyOptions& m_options;
};

// Calls `visit(dir_fd, name, stat)` for every entry below `dir_fd`, depth first, without
// following symlinks; `visit` returning false stops the walk.
using Visitor = std::function<bool(int, const std::string&, const struct stat&)>;

Expected<bool> walk(int dir_fd, int depth, const std::string& shown, const Visitor& visit) {
  if (depth > k_max_depth) {
    return fail("'{}' is nested more than {} directories deep", shown, k_max_depth);
  }
  auto names = TRY(list_names(dir_fd, shown));
  for (const auto& name : names) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    if (!visit(dir_fd, name, st)) {
      return false;
    }
    if (S_ISDIR(st.st_mode)) {
      UniqueFd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) {
        return fail("cannot read '{}': {}", join(shown, name), errno_text(errno));
      }
      auto more = walk(sub.get(), depth + 1, join(shown, name), visit);
      if (!more || !*more) {
        return more;
      }
    }
  }
  return true;
}

} // namespace

Expected<std::optional<UniqueFd>> open_beneath(const fs::path& root, std::string_view relative,
                                               int flags) {
  auto root_fd = TRY(open_directory(root));
  UniqueFd fd = open_at2(root_fd.get(), relative, flags);
  if (!fd) {
    if (errno == ENOENT) {
      return std::optional<UniqueFd>();
    }
    return fail("{}", describe_open_error(relative, errno));
  }
  return std::optional<UniqueFd>(std::move(fd));
}

Expected<std::optional<std::string>> read_beneath(const fs::path& root, std::string_view relative,
                                                  std::size_t max_size) {
  auto opened = TRY(open_beneath(root, relative, O_RDONLY | O_NONBLOCK | O_NOCTTY));
  if (!opened) {
    return std::optional<std::string>();
  }
  int fd = opened->get();
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return fail("cannot read '{}': {}", relative, errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail("'{}' is not a regular file", relative);
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_size) {
    return fail("'{}' is larger than {}", relative, format_size(max_size));
  }
  std::string content;
  TRY(read_chunks(fd, relative, [&](std::string_view chunk) -> Expected<void> {
    if (content.size() + chunk.size() > max_size) {
      return fail("'{}' is larger than {}", relative, format_size(max_size));
    }
    content.append(chunk);
    return {};
  }));
  return std::optional<std::string>(std::move(content));
}

Expected<void> write_beneath(const fs::path& root, std::string_view relative,
                             std::string_view content, mode_t mode) {
  auto slash = relative.rfind('/');
  std::string_view parent = slash == std::string_view::npos ? "" : relative.substr(0, slash);
  std::string name(slash == std::string_view::npos ? relative : relative.substr(slash + 1));
  if (name.empty() || name == "." || name == "..") {
    return fail("cannot write '{}': not a file name", relative);
  }
  auto root_fd = TRY(open_directory(root));
  auto dir = TRY(open_directory_creating(root_fd.get(), parent));
  static long counter = 0;
  std::string temp = fmt::format(".{}.slipway-{}-{}", name, ::getpid(), ++counter);
  UniqueFd out(::openat(dir.get(), temp.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) {
    return fail("cannot create '{}': {}", relative, errno_text(errno));
  }
  auto written = write_all(out.get(), content, relative);
  if (written && (::fchmod(out.get(), mode) != 0 || ::fsync(out.get()) != 0)) {
    written = fail("cannot write '{}': {}", relative, errno_text(errno));
  }
  if (written && ::renameat(dir.get(), temp.c_str(), dir.get(), name.c_str()) != 0) {
    written = fail("cannot write '{}': {}", relative, errno_text(errno));
  }
  if (!written) {
    ::unlinkat(dir.get(), temp.c_str(), 0);
    return written;
  }
  ::fsync(dir.get());
  return {};
}

Expected<void> remove_tree(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return {};
    }
    return fail("cannot remove '{}': {}", path.string(), errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return fail("cannot remove '{}': {}", path.string(), errno_text(errno));
    }
    return {};
  }
  UniqueFd top(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!top && errno == EACCES) {
    ::chmod(path.c_str(), 0700);
    top.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!top) {
    return fail("cannot remove '{}': {}", path.string(), errno_text(errno));
  }
  open_up(top.get());
  // Each pass removes up to k_remove_depth levels; what lies deeper was moved to the top.
  long next_name = 0;
  while (true) {
    long moved = 0;
    TRY(empty_directory(top.get(), top.get(), 0, moved, next_name, path.string()));
    if (moved == 0) {
      break;
    }
  }
  top.reset();
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
    return fail("cannot remove '{}': {}", path.string(), errno_text(errno));
  }
  return {};
}

Expected<void> copy_tree(const fs::path& from, const fs::path& to, const CopyOptions& options) {
  auto in = TRY(open_directory(from));
  if (::mkdir(to.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail("cannot create '{}': {}", to.string(), errno_text(errno));
  }
  auto out = TRY(open_directory(to, O_NOFOLLOW));
  TreeCopier copier(options);
  if (auto copied = copier.directory(in.get(), out.get(), 0, ""); !copied) {
    return prefixed(copied.error(), from.string());
  }
  struct stat st {};
  ::fstat(in.get(), &st);
  if (options.owner && ::fchown(out.get(), options.owner->uid, options.owner->gid) != 0) {
    return fail("cannot give '{}' to uid {}: {}", to.string(), options.owner->uid,
                errno_text(errno));
  }
  ::fchmod(out.get(), st.st_mode & 01777);
  return {};
}

Expected<void> chown_tree(const fs::path& path, Owner owner) {
  auto top = TRY(open_directory(path, O_NOFOLLOW));
  if (::fchown(top.get(), owner.uid, owner.gid) != 0) {
    return fail("cannot give '{}' to uid {}: {}", path.string(), owner.uid, errno_text(errno));
  }
  int failure = 0;
  std::string failed;
  TRY(walk(top.get(), 0, path.string(),
           [&](int dir_fd, const std::string& name, const struct stat& st) {
             if (st.st_uid == owner.uid && st.st_gid == owner.gid) {
               return true;
             }
             if (::fchownat(dir_fd, name.c_str(), owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) != 0) {
               failure = errno;
               failed = name;
               return false;
             }
             return true;
           }));
  if (failure != 0) {
    return fail("cannot give '{}' under '{}' to uid {}: {}", failed, path.string(), owner.uid,
                errno_text(failure));
  }
  return {};
}

std::uint64_t disk_usage(const fs::path& path, std::uint64_t stop_above) {
  UniqueFd top(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!top) {
    return 0;
  }
  std::uint64_t total = 0;
  auto walked =
      walk(top.get(), 0, path.string(), [&](int, const std::string&, const struct stat& st) {
        // An inode is disk too: empty files and symlinks cost a block each, or millions of
        // them would fill the filesystem for free.
        total +=
            std::max<std::uint64_t>(static_cast<std::uint64_t>(st.st_blocks) * 512, k_inode_charge);
        return total <= stop_above;
      });
  // A tree that cannot be walked to its end (nested too deep) hides what lies past the
  // point it stopped: it counts as past any budget.
  return walked ? total : UINT64_MAX;
}

Expected<std::uint64_t> free_disk(const fs::path& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    return fail("cannot read the free space of '{}': {}", path.string(), errno_text(errno));
  }
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

} // namespace slipway
