// Limits on a group of processes through cgroup v1's memory and pids controllers, where
// this process may make cgroups: as root, on a host that mounts them at
// /sys/fs/cgroup/memory and /sys/fs/cgroup/pids. Each group is made below the caller's own
// cgroup, so whatever limits the host puts on slipway still hold for its apps. Elsewhere
// (not root, cgroup v2 only) nothing is made and the sandbox falls back to rlimits.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace slipway {

class Cgroup {
 public:
  // CONTROLLER's cgroup RELATIVE ("slipway-1a2b3c4d/myapp/web.1-7") below this process's
  // own, made with its parents; nullopt when this process cannot make cgroups there.
  static std::optional<Cgroup> create(std::string_view controller, std::string_view relative);

  Expected<void> set(std::string_view file, std::string_view value) const;
  // cgroup.procs, open for writing: a child writes "0" to it to join.
  Expected<UniqueFd> open_procs() const;
  // An eventfd that becomes readable each time the kernel kills a process of the group for
  // going past memory.limit_in_bytes.
  Expected<UniqueFd> oom_events() const;
  // How many processes of the group the kernel killed so far for going past its limit.
  std::uint64_t oom_kills() const;
  // rmdir once its processes are gone (waits briefly for them to be reaped); false if it
  // still holds some.
  bool remove() const;

  const std::filesystem::path& path() const { return m_path; }

 private:
  explicit Cgroup(std::filesystem::path path) : m_path(std::move(path)) {}
  std::filesystem::path m_path;
};

// The cgroups of one sandbox: its own memory group (its memory limit, its OOM kills) and
// its app's pids group (the processes of every sandbox of the app together).
struct SandboxCgroups {
  std::optional<Cgroup> memory;
  std::optional<Cgroup> pids;

  // "slipway-<root id>/<app>/<name>" for memory, "slipway-<root id>/<app>" for pids, with
  // their limits set; each is absent where cgroups cannot be made.
  static std::shared_ptr<SandboxCgroups> create(std::string_view root_id, std::string_view app,
                                                std::string_view name, std::uint64_t memory,
                                                int processes);
  // Removes the memory group once its processes are gone (the pids group is the app's,
  // shared with its other sandboxes, and stays).
  void remove() const;
};

// Removes the empty cgroups under "slipway-<root id>" that earlier runs left behind.
void remove_stale_cgroups(std::string_view root_id);

} // namespace slipway
