// File operations on trees whose content an app or a buildpack controls: build dirs,
// caches, unpacked slugs, process copies. Nothing here follows a symlink out of the tree:
// reads and writes resolve their path in the kernel beneath the tree's root (openat2
// RESOLVE_BENEATH, kernel 5.6+), walks open each directory with O_NOFOLLOW relative to its
// parent, and no path is handed to a call that would resolve it again. A symlink inside the
// tree stays a symlink: harmless in the sandbox, never followed here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/owner.hpp"

namespace slipway {

// Opens ROOT/RELATIVE with `flags`, resolved inside ROOT: a '..' above it, an absolute
// symlink or one that leads out of it fails (EXDEV), as does a /proc magic link. nullopt
// when it does not exist.
Expected<std::optional<UniqueFd>> open_beneath(const std::filesystem::path& root,
                                               std::string_view relative, int flags);

// The content of ROOT/RELATIVE, a regular file of at most `max_size` bytes, or nullopt when
// there is none. A FIFO, device, directory or a symlink out of ROOT is an error naming
// RELATIVE, never opened in a way that could block or read outside the tree.
Expected<std::optional<std::string>> read_beneath(const std::filesystem::path& root,
                                                  std::string_view relative,
                                                  std::size_t max_size = 1 << 20);

// Replaces ROOT/RELATIVE atomically (temp file, fsync, renameat within its directory),
// creating missing directories inside ROOT. A directory on the way that is a symlink out of
// ROOT is an error; a symlink at RELATIVE itself is replaced, not written through.
Expected<void> write_beneath(const std::filesystem::path& root, std::string_view relative,
                             std::string_view content, mode_t mode = 0644);

// Removes `path` and everything below it. Symlinks are removed, never followed; directories
// the tree's owner made unwritable or unreadable are opened up first; any depth works.
// A missing `path` is not an error.
Expected<void> remove_tree(const std::filesystem::path& path);

struct CopyOptions {
  std::optional<Owner> owner;        // chown every copied entry (root only)
  std::vector<std::string> skip_top; // names left out at the top level (".git")
};

// Copies the tree `from` into `to` (created, or empty): directories, regular files (modes
// kept, set-user-ID and set-group-ID bits dropped) and symlinks as symlinks. Anything else
// (FIFOs, sockets, devices) is an error naming it.
Expected<void> copy_tree(const std::filesystem::path& from, const std::filesystem::path& to,
                         const CopyOptions& options = {});

// Gives `path` and everything below it to `owner` (lchown: symlinks themselves).
Expected<void> chown_tree(const std::filesystem::path& path, Owner owner);

// The bytes the tree takes on disk: allocated blocks, at least one block (4KB) per entry,
// symlinks not followed. Stops counting once past `stop_above`. A tree too deep to walk
// counts as UINT64_MAX.
std::uint64_t disk_usage(const std::filesystem::path& path, std::uint64_t stop_above = UINT64_MAX);

// Free bytes for an unprivileged writer on the filesystem holding `path`.
Expected<std::uint64_t> free_disk(const std::filesystem::path& path);

} // namespace slipway
