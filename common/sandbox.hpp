// Where buildpacks, the release phase and processes run. With `sandbox = "bwrap"`: a
// bubblewrap container with the app dir at /app (HOME=/app), read-only system dirs, its own
// user, pid, ipc and uts namespaces, no capabilities, no_new_privs, a seccomp filter
// (seccomp.hpp), limits on memory, processes, file size and open files, and no life beyond
// its parent. With `sandbox = "none"`: on the host, the same roles played by host paths (no
// /app parity, so it warns). Whichever mode, app code never runs as uid 0: when slipway runs
// as root, the child becomes the app's own uid before it starts.
//
// The launcher itself (bwrap) starts with a fixed, minimal environment; the app's variables
// reach the sandbox through a descriptor bwrap reads (--args), never bwrap's own environment
// or its argv, so no config var (LD_PRELOAD, BASH_ENV, ...) can change what runs on the host.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/cgroup.hpp"
#include "common/error.hpp"
#include "common/owner.hpp"
#include "common/subprocess.hpp"

namespace slipway {

enum class SandboxMode { bwrap, none };

struct SandboxLimits {
  std::uint64_t memory = 0;    // bytes: the whole sandbox with a cgroup, each process without
  int processes = 0;           // processes and threads: the app's (cgroup, uid), or the sandbox's
  std::uint64_t file_size = 0; // the largest file a process may write
  int open_files = 10000;      // descriptors per process
};

struct SandboxSettings {
  SandboxMode mode = SandboxMode::bwrap;
  // The app's uid and gid. As root, the sandbox's processes run as them on the host;
  // otherwise they run as slipway's user and see these inside.
  Owner identity{200000, 200000};
  SandboxLimits limits;
  // Made by the caller, who removes them once the sandbox has ended; may be null.
  std::shared_ptr<SandboxCgroups> cgroups;
};

class Sandbox {
 public:
  enum class Access { read_only, read_write };

  Sandbox(SandboxSettings settings, std::filesystem::path app_dir,
          Access app_access = Access::read_write);

  // Makes `host` visible at `inside` (an absolute path such as "/cache").
  void bind(std::filesystem::path host, std::string inside, Access access);

  // The sandbox's / is `root`, a directory of root's that holds the app dir as `app` and
  // may hold others (`cache`): a read-write bind whose host path is root's entry of the same
  // name is then part of that one mount, not a mount of its own, so files can be
  // hard-linked between them (link(2) fails across mounts). Only when the sandbox switches
  // to the app's uid on the host, which cannot write to `root` itself; otherwise each is
  // bound as usual. The mount points are made in `root`.
  void set_root(std::filesystem::path root) { m_root = std::move(root); }

  // The path the sandboxed command must be given for `inside` ("/app", "/cache/x"):
  // itself under bwrap, the bound host path under "none".
  std::string path(const std::string& inside) const;

  // The command that runs `argv` in the sandbox, starting in /app, with exactly `env` as
  // its environment. Fails when the sandbox cannot be set up (a bind source its uid cannot
  // reach, no seccomp filter).
  Expected<Command> command(const std::vector<std::string>& argv,
                            const std::map<std::string, std::string>& env) const;

  SandboxMode mode() const { return m_settings.mode; }
  const SandboxSettings& settings() const { return m_settings; }

 private:
  struct Mount {
    std::filesystem::path host;
    std::string inside;
    Access access;
  };

  Expected<void> check_reachable(const std::filesystem::path& host) const;
  bool in_root(const Mount& mount) const;
  Expected<void> make_mount_points() const;

  SandboxSettings m_settings;
  std::vector<Mount> m_mounts; // m_mounts[0] is /app
  std::filesystem::path m_root;
};

// Whether sandboxes switch to the app's uid on the host: slipway runs as root.
bool sandbox_switches_user();

// Printed once per process the first time a "none" sandbox is used.
void warn_if_unsandboxed(SandboxMode mode);

// The total size of an environment as execve counts it, and the most slipway lets an app
// have (Heroku's limit on an app's config vars is 32 KB; exec itself fails near 128 KB per
// string or 2 MB in all).
std::size_t environment_size(const std::map<std::string, std::string>& env);
inline constexpr std::size_t k_max_environment = 64 * 1024;

// The environment of every program slipway starts in a sandbox (a buildpack, a process, the
// release phase, a one-off): PATH, LANG and HOME (the sandbox's /app), with `extra` on top
// (HOME stays). Too large to start a program with (past k_max_environment) is an error.
Expected<std::map<std::string, std::string>>
sandbox_environment(const Sandbox& box, const std::map<std::string, std::string>& extra);

} // namespace slipway
