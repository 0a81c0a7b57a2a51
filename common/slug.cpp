#include "common/slug.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <memory>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/fd.hpp"
#include "common/files.hpp"
#include "common/hash.hpp"
#include "common/libarchive.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

struct ArchiveWriteFree {
  void operator()(archive* a) const { libarchive::archive_write_free(a); }
};
struct ArchiveReadFree {
  void operator()(archive* a) const { libarchive::archive_read_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { libarchive::archive_entry_free(e); }
};
using WriteArchive = std::unique_ptr<archive, ArchiveWriteFree>;
using ReadArchive = std::unique_ptr<archive, ArchiveReadFree>;
using Entry = std::unique_ptr<archive_entry, EntryFree>;

constexpr std::string_view k_prefix = "./app";
constexpr std::size_t k_block = 1 << 20;

// Where the compressed bytes go: the temp file, hashed and counted on the way.
struct Sink {
  int fd;
  Sha256 hash;
  std::uint64_t written = 0;
  std::uint64_t max_size;
  bool too_large = false;
};

la_ssize_t sink_write(archive* a, void* context, const void* buffer, size_t length) {
  auto* sink = static_cast<Sink*>(context);
  if (sink->written + length > sink->max_size) {
    sink->too_large = true;
    libarchive::archive_set_error(a, EFBIG, "slug too large");
    return -1;
  }
  const char* data = static_cast<const char*>(buffer);
  size_t left = length;
  while (left > 0) {
    ssize_t n = ::write(sink->fd, data, left);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      libarchive::archive_set_error(a, errno, "%s", std::strerror(errno));
      return -1;
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  sink->hash.update(buffer, length);
  sink->written += length;
  return static_cast<la_ssize_t>(length);
}

std::string archive_message(archive* a) {
  const char* message = libarchive::archive_error_string(a);
  return message ? message : "unknown libarchive error";
}

struct Member {
  std::string relative; // '/'-separated, "" for the app dir itself
  fs::path path;
};

// Every entry below `root`, parents before children, in byte order of their paths.
Expected<std::vector<Member>> list_tree(const fs::path& root) {
  std::vector<Member> members = {{"", root}};
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    members.push_back({it->path().lexically_relative(root).generic_string(), it->path()});
  }
  if (ec) {
    return fail("cannot read '{}': {}", root.string(), ec.message());
  }
  std::ranges::sort(members, {}, &Member::relative);
  return members;
}

// Opens ROOT/RELATIVE without following any symlink on the way or at its end.
UniqueFd open_member(int root_fd, const std::string& relative, int flags) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
  std::string path = relative.empty() ? "." : relative;
  return UniqueFd(static_cast<int>(syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how)));
}

Expected<void> add_member(archive* out, int root_fd, const Member& member,
                          std::vector<char>& buffer) {
  // A regular file or directory opens; a symlink (ELOOP) opens as itself with O_PATH.
  UniqueFd fd = open_member(root_fd, member.relative, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd && errno == ELOOP) {
    fd = open_member(root_fd, member.relative, O_PATH);
  }
  struct stat st {};
  if (!fd || fstat(fd.get(), &st) != 0) {
    return fail("cannot read '{}': {}", member.path.string(), errno_text(errno));
  }
  Entry entry(libarchive::archive_entry_new());
  std::string name = member.relative.empty() ? std::string(k_prefix) + "/"
                                             : fmt::format("{}/{}", k_prefix, member.relative);
  libarchive::archive_entry_copy_pathname(entry.get(), name.c_str());
  libarchive::archive_entry_set_perm(entry.get(), st.st_mode & 01777);
  libarchive::archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, 0);
  libarchive::archive_entry_set_uid(entry.get(), 0);
  libarchive::archive_entry_set_gid(entry.get(), 0);
  bool has_data = false;
  if (S_ISDIR(st.st_mode)) {
    libarchive::archive_entry_set_filetype(entry.get(), AE_IFDIR);
  } else if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
    ssize_t n = readlinkat(fd.get(), "", target.data(), target.size());
    if (n < 0 || static_cast<std::size_t>(n) >= target.size()) {
      return fail("cannot read symlink '{}': {}", member.path.string(),
                  errno_text(n < 0 ? errno : EOVERFLOW));
    }
    target.resize(static_cast<std::size_t>(n));
    libarchive::archive_entry_set_filetype(entry.get(), AE_IFLNK);
    libarchive::archive_entry_copy_symlink(entry.get(), target.c_str());
  } else if (S_ISREG(st.st_mode)) {
    libarchive::archive_entry_set_filetype(entry.get(), AE_IFREG);
    libarchive::archive_entry_set_size(entry.get(), st.st_size);
    has_data = true;
  } else {
    return fail("cannot pack '{}': not a regular file, directory or symlink", member.relative);
  }
  if (libarchive::archive_write_header(out, entry.get()) != ARCHIVE_OK) {
    return fail("cannot pack '{}': {}", member.relative, archive_message(out));
  }
  if (has_data) {
    ssize_t n = 0;
    while ((n = read(fd.get(), buffer.data(), buffer.size())) > 0) {
      if (libarchive::archive_write_data(out, buffer.data(), static_cast<size_t>(n)) < 0) {
        return fail("cannot pack '{}': {}", member.relative, archive_message(out));
      }
    }
    if (n < 0) {
      return fail("cannot read '{}': {}", member.path.string(), errno_text(errno));
    }
  }
  return {};
}

// Feeds libarchive the slug's bytes, hashing them on the way.
struct HashingSource {
  int fd;
  Sha256 hash;
  std::vector<char> buffer = std::vector<char>(k_block);
};

la_ssize_t hashing_read(archive* a, void* context, const void** block) {
  auto* source = static_cast<HashingSource*>(context);
  ssize_t n = 0;
  do {
    n = ::read(source->fd, source->buffer.data(), source->buffer.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    libarchive::archive_set_error(a, errno, "%s", std::strerror(errno));
    return -1;
  }
  source->hash.update(source->buffer.data(), static_cast<std::size_t>(n));
  *block = source->buffer.data();
  return n;
}

// A slug entry's path below ./app/ ("" for ./app/ itself), or why it may not be one.
Expected<std::string> relative_path(std::string_view name) {
  std::string_view original = name;
  if (name.starts_with("./")) {
    name.remove_prefix(2);
  }
  if (name == "app" || name == "app/") {
    return std::string();
  }
  if (!name.starts_with("app/")) {
    return fail("slug entry '{}' is outside ./app/", original);
  }
  name.remove_prefix(4);
  fs::path relative(name);
  if (relative.is_absolute()) {
    return fail("slug entry '{}' has an absolute path", original);
  }
  for (const auto& part : relative) {
    if (part == "..") {
      return fail("slug entry '{}' contains '..'", original);
    }
  }
  std::string out(name);
  while (out.ends_with('/')) {
    out.pop_back();
  }
  return out;
}

} // namespace

std::string slug_file_name(const std::string& sha256, SlugCompression compression) {
  return sha256 + (compression == SlugCompression::zstd ? ".tar.zst" : ".tar.gz");
}

Expected<SlugInfo> pack_slug(const fs::path& app_dir, const fs::path& output,
                             const PackOptions& options) {
  auto members = TRY(list_tree(app_dir));
  auto file = TRY(AtomicFile::create(output, 0644));
  Sink sink{.fd = file.fd(), .max_size = options.max_size};

  WriteArchive out(libarchive::archive_write_new());
  libarchive::archive_write_set_format_pax_restricted(out.get());
  libarchive::archive_write_set_bytes_per_block(out.get(), k_block);
  libarchive::archive_write_set_bytes_in_last_block(out.get(), 1);
  std::string filter_options;
  if (options.compression == SlugCompression::zstd) {
    libarchive::archive_write_add_filter_zstd(out.get());
    int threads = options.threads > 0 ? options.threads
                                      : static_cast<int>(std::thread::hardware_concurrency());
    filter_options = fmt::format("zstd:compression-level=3,zstd:threads={}", std::max(threads, 1));
  } else {
    libarchive::archive_write_add_filter_gzip(out.get());
    filter_options = "gzip:compression-level=6";
  }
  if (libarchive::archive_write_set_options(out.get(), filter_options.c_str()) != ARCHIVE_OK) {
    return fail("cannot set slug compression '{}': {}", filter_options, archive_message(out.get()));
  }
  if (libarchive::archive_write_open2(out.get(), &sink, nullptr, sink_write, nullptr, nullptr) !=
      ARCHIVE_OK) {
    return fail("cannot write '{}': {}", output.string(), archive_message(out.get()));
  }
  std::vector<char> buffer(k_block);
  auto too_large = [&] {
    return fail("slug is larger than max_slug_size ({})", format_size(options.max_size));
  };
  UniqueFd root_fd(::open(app_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) {
    return fail("cannot read '{}': {}", app_dir.string(), errno_text(errno));
  }
  for (const auto& member : members) {
    if (options.deadline.expired()) {
      return fail("packing the slug did not finish within the build's time limit");
    }
    if (auto added = add_member(out.get(), root_fd.get(), member, buffer); !added) {
      if (sink.too_large) {
        return too_large();
      }
      return std::unexpected(added.error());
    }
  }
  if (libarchive::archive_write_close(out.get()) != ARCHIVE_OK) {
    if (sink.too_large) {
      return too_large();
    }
    return fail("cannot write '{}': {}", output.string(), archive_message(out.get()));
  }
  TRY(file.commit());
  return SlugInfo{output, sink.hash.hex_digest(), sink.written};
}

Expected<SlugInfo> pack_slug_into_store(const fs::path& app_dir, const fs::path& store_dir,
                                        const PackOptions& options) {
  // The name is known only once the bytes are: pack under a name of this process's own.
  fs::path pending = store_dir / fmt::format(".pending-{}.slug", getpid());
  auto slug = TRY(pack_slug(app_dir, pending, options));
  slug.path = store_dir / slug_file_name(slug.sha256, options.compression);
  if (auto renamed = rename_durable(pending, slug.path); !renamed) {
    std::error_code ec;
    fs::remove(pending, ec);
    return std::unexpected(renamed.error());
  }
  return slug;
}

Expected<void>
read_slug(const fs::path& slug, std::string_view expected_sha256,
          const std::function<Expected<void>(const SlugMember&, const SlugDataReader&)>& visit) {
  UniqueFd slug_fd(::open(slug.c_str(), O_RDONLY | O_CLOEXEC));
  if (!slug_fd) {
    return fail("cannot read slug '{}': {}", slug.string(), errno_text(errno));
  }
  HashingSource source{.fd = slug_fd.get()};
  ReadArchive in(libarchive::archive_read_new());
  // The two compressions slipway writes, and nothing else: no other decoder is reachable.
  libarchive::archive_read_support_filter_zstd(in.get());
  libarchive::archive_read_support_filter_gzip(in.get());
  libarchive::archive_read_support_format_tar(in.get());
  if (libarchive::archive_read_open(in.get(), &source, nullptr, hashing_read, nullptr) !=
      ARCHIVE_OK) {
    return fail("cannot read slug '{}': {}", slug.string(), archive_message(in.get()));
  }
  archive_entry* entry = nullptr;
  int rc = ARCHIVE_OK;
  while ((rc = libarchive::archive_read_next_header(in.get(), &entry)) == ARCHIVE_OK) {
    const char* raw_name = libarchive::archive_entry_pathname(entry);
    std::string name = raw_name ? raw_name : "";
    SlugMember member{.relative = TRY(relative_path(name)), .entry = entry};
    libarchive::archive_entry_set_perm(entry, libarchive::archive_entry_perm(entry) & 01777);
    if (const char* link = libarchive::archive_entry_hardlink(entry)) {
      member.hardlink = TRY(relative_path(link));
    } else if (auto type = libarchive::archive_entry_filetype(entry);
               type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
      return fail("slug entry '{}' is not a file, directory or symlink", name);
    }
    auto read_data =
        [&](const std::function<Expected<void>(const void*, std::size_t, std::int64_t)>& on_block)
        -> Expected<void> {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int data_rc = ARCHIVE_OK;
      while ((data_rc = libarchive::archive_read_data_block(in.get(), &block, &size, &offset)) ==
             ARCHIVE_OK) {
        TRY(on_block(block, size, offset));
      }
      if (data_rc != ARCHIVE_EOF) {
        return fail("cannot read slug '{}': {}", slug.string(), archive_message(in.get()));
      }
      return {};
    };
    TRY(visit(member, read_data));
  }
  if (rc != ARCHIVE_EOF) {
    return fail("cannot read slug '{}': {}", slug.string(), archive_message(in.get()));
  }
  if (!expected_sha256.empty()) {
    // What follows the archive's end (padding) counts too: the hash is of the whole file.
    const void* block = nullptr;
    while (hashing_read(in.get(), &source, &block) > 0) {
    }
    std::string actual = source.hash.hex_digest();
    if (actual != expected_sha256) {
      return fail("slug '{}' is damaged or was replaced: its SHA-256 is {}, the release "
                  "recorded {}",
                  slug.filename().string(), actual, expected_sha256);
    }
  }
  return {};
}

namespace {

// A regular file of the previous tree that may be the member's: same size, mode and mtime.
// Its content decides.
UniqueFd reusable(int reuse_fd, const SlugMember& member) {
  if (reuse_fd < 0 || !member.hardlink.empty() ||
      libarchive::archive_entry_filetype(member.entry) != AE_IFREG) {
    return {};
  }
  UniqueFd old = open_member(reuse_fd, member.relative, O_RDONLY);
  struct stat st {};
  if (!old || ::fstat(old.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size != libarchive::archive_entry_size(member.entry) ||
      (st.st_mode & 07777) != (libarchive::archive_entry_perm(member.entry) & 07777) ||
      st.st_mtim.tv_sec != libarchive::archive_entry_mtime(member.entry) ||
      st.st_mtim.tv_nsec != 0) {
    return {};
  }
  return old;
}

// The directory holding `relative` below `root_fd`, and its last component.
std::pair<UniqueFd, std::string> parent_of(int root_fd, const std::string& relative) {
  auto slash = relative.rfind('/');
  std::string parent = slash == std::string::npos ? "" : relative.substr(0, slash);
  return {open_member(root_fd, parent, O_PATH | O_DIRECTORY),
          relative.substr(slash == std::string::npos ? 0 : slash + 1)};
}

} // namespace

Expected<void> unpack_slug(const fs::path& slug, const fs::path& dest,
                           std::string_view expected_sha256, const fs::path& reuse) {
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) {
    return fail("cannot create '{}': {}", dest.string(), ec.message());
  }
  // Symlink checks apply to every component of the paths written, so the destination
  // itself is named without symlinks.
  fs::path root = fs::canonical(dest, ec);
  if (ec) {
    return fail("cannot resolve '{}': {}", dest.string(), ec.message());
  }
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  UniqueFd reuse_fd(
      reuse.empty() ? -1 : ::open(reuse.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  WriteArchive disk(libarchive::archive_write_disk_new());
  libarchive::archive_write_disk_set_options(
      disk.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                      ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  std::vector<char> old_block(k_block);
  TRY(read_slug(
      slug, expected_sha256,
      [&](const SlugMember& member, const SlugDataReader& read_data) -> Expected<void> {
        fs::path target = member.relative.empty() ? root : root / member.relative;
        libarchive::archive_entry_copy_pathname(member.entry, target.c_str());
        if (!member.hardlink.empty()) {
          libarchive::archive_entry_copy_hardlink(member.entry, (root / member.hardlink).c_str());
        }
        auto write_header = [&]() -> Expected<void> {
          if (libarchive::archive_write_header(disk.get(), member.entry) != ARCHIVE_OK) {
            return fail("cannot unpack '{}': {}", member.relative, archive_message(disk.get()));
          }
          return {};
        };
        auto write_block = [&](const void* block, std::size_t size,
                               std::int64_t offset) -> Expected<void> {
          if (libarchive::archive_write_data_block(disk.get(), block, size, offset) != ARCHIVE_OK) {
            return fail("cannot unpack '{}': {}", member.relative, archive_message(disk.get()));
          }
          return {};
        };
        // The previous tree's bytes [0, end) of `old`, written as the member's.
        auto write_old = [&](int old, std::int64_t end) -> Expected<void> {
          for (std::int64_t at = 0; at < end;) {
            auto want = static_cast<std::size_t>(std::min<std::int64_t>(k_block, end - at));
            ssize_t got = ::pread(old, old_block.data(), want, at);
            if (got <= 0) {
              return fail("cannot unpack '{}': the previous release's copy changed",
                          member.relative);
            }
            TRY(write_block(old_block.data(), static_cast<std::size_t>(got), at));
            at += got;
          }
          return {};
        };
        // A file the previous release of the app has, byte for byte, becomes a hard link to
        // it: a redeploy whose tree changed in one file writes one file. Until the first
        // byte that differs, the member is compared, not written.
        UniqueFd old = reusable(reuse_fd.get(), member);
        bool same = static_cast<bool>(old);
        std::int64_t position = 0;
        if (!same) {
          TRY(write_header());
        }
        TRY(read_data(
            [&](const void* block, std::size_t size, std::int64_t offset) -> Expected<void> {
              if (same) {
                ssize_t got = offset == position && size <= old_block.size()
                                  ? ::pread(old.get(), old_block.data(), size, offset)
                                  : -1;
                if (got == static_cast<ssize_t>(size) &&
                    std::memcmp(old_block.data(), block, size) == 0) {
                  position += static_cast<std::int64_t>(size);
                  return {};
                }
                same = false;
                TRY(write_header());
                TRY(write_old(old.get(), position));
              }
              return write_block(block, size, offset);
            }));
        if (same) {
          auto [from_dir, name] = parent_of(reuse_fd.get(), member.relative);
          auto [to_dir, to_name] = parent_of(root_fd.get(), member.relative);
          if (from_dir && to_dir &&
              ::linkat(from_dir.get(), name.c_str(), to_dir.get(), to_name.c_str(), 0) == 0) {
            return {};
          }
          TRY(write_header()); // no link here: the bytes again, from the previous copy
          TRY(write_old(old.get(), position));
        }
        if (libarchive::archive_write_finish_entry(disk.get()) != ARCHIVE_OK) {
          return fail("cannot unpack '{}': {}", member.relative, archive_message(disk.get()));
        }
        return {};
      }));
  if (libarchive::archive_write_close(disk.get()) != ARCHIVE_OK) {
    return fail("cannot unpack slug '{}': {}", slug.string(), archive_message(disk.get()));
  }
  return {};
}

} // namespace slipway
