// A process's /app as an overlay: the unpacked release read-only beneath, the process's writes
// in a directory of its own above, mounted in a mount namespace of the child's own (so the
// host never sees it, and it ends with the process). Starting a process then costs nothing
// in the release's size, where a copy costs its every file. Mounting needs CAP_SYS_ADMIN:
// slipway as root. Without it, or where the kernel refuses an overlay there (an upper
// directory on overlayfs, as in some containers), callers copy instead.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace slipway {

struct OverlayMount {
  // The directories, and a descriptor open on each. The mount names them as
  // /proc/self/fd/N, so no path with a ',' or ':' in it can change its options; in the
  // child each descriptor is opened again after the mount namespace is its own (overlayfs
  // refuses directories seen through another namespace's mounts).
  std::string lower, upper, work;
  std::shared_ptr<UniqueFd> lower_fd, upper_fd, work_fd;
  std::string target;  // where it is mounted, in the child's own mount namespace
  std::string options; // "lowerdir=/proc/self/fd/N,upperdir=...,workdir=..."
};

// The mount of `lower` beneath, `upper` and `work` (empty directories on one filesystem)
// above, at `target`.
Expected<OverlayMount> overlay_mount(const std::filesystem::path& lower,
                                     const std::filesystem::path& upper,
                                     const std::filesystem::path& work,
                                     const std::filesystem::path& target);

// In a child, between fork and exec, before its user changes: a mount namespace of its own
// with nothing shared back to the host, then the overlay. Async-signal-safe; false (errno
// set) when either fails.
bool mount_overlay_in_child(const OverlayMount& overlay);

// Whether overlays can be mounted with upper directories in `scratch` (tried once per
// process, in a child, in a scratch directory made and removed there).
bool overlays_supported(const std::filesystem::path& scratch);

} // namespace slipway
