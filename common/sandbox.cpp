#include "common/sandbox.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.hpp"
#include "common/fd.hpp"
#include "common/seccomp.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_launcher_path = "/usr/sbin:/usr/bin:/sbin:/bin";

// A sealed-off file in memory holding `content`, for bwrap to read through its descriptor.
Expected<std::shared_ptr<UniqueFd>> memory_file(const char* name, std::string_view content) {
  auto fd = std::make_shared<UniqueFd>(memfd_create(name, MFD_CLOEXEC));
  if (!*fd) {
    return fail("cannot create a memory file: {}", errno_text(errno));
  }
  if (auto written = write_all(fd->get(), content); !written) {
    return fail("cannot write a memory file: {}", written.error().message);
  }
  if (lseek(fd->get(), 0, SEEK_SET) != 0) {
    return fail("cannot rewind a memory file: {}", errno_text(errno));
  }
  return fd;
}

std::string descriptor(const std::shared_ptr<UniqueFd>& fd) {
  return std::to_string(fd->get());
}

// A limit no higher than the one this process may grant.
std::uint64_t capped(int resource, std::uint64_t value) {
  rlimit current{};
  if (getrlimit(resource, &current) == 0 && current.rlim_max != RLIM_INFINITY &&
      value > current.rlim_max) {
    return current.rlim_max;
  }
  return value;
}

} // namespace

bool sandbox_switches_user() {
  return geteuid() == 0;
}

std::size_t environment_size(const std::map<std::string, std::string>& env) {
  std::size_t total = 0;
  for (const auto& [name, value] : env) {
    total += name.size() + value.size() + 2 + sizeof(char*);
  }
  return total;
}

Expected<std::map<std::string, std::string>>
sandbox_environment(const Sandbox& box, const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"LANG", "C.UTF-8"},
  };
  for (const auto& [name, value] : extra) {
    env[name] = value;
  }
  env["HOME"] = box.path("/app");
  if (std::size_t size = environment_size(env); size > k_max_environment) {
    return fail("the environment is too large to start a process with: {} (config vars and "
                "slipway's own), the most is {}",
                format_size(size), format_size(k_max_environment));
  }
  return env;
}

Sandbox::Sandbox(SandboxSettings settings, fs::path app_dir, Access app_access)
    : m_settings(std::move(settings)) {
  m_mounts.push_back({std::move(app_dir), "/app", app_access});
}

void Sandbox::bind(fs::path host, std::string inside, Access access) {
  m_mounts.push_back({std::move(host), std::move(inside), access});
}

std::string Sandbox::path(const std::string& inside) const {
  if (m_settings.mode == SandboxMode::bwrap) {
    return inside;
  }
  for (const auto& mount : m_mounts) {
    if (inside == mount.inside) {
      return mount.host.string();
    }
    if (inside.starts_with(mount.inside + "/")) {
      return (mount.host / inside.substr(mount.inside.size() + 1)).string();
    }
  }
  return inside;
}

// bubblewrap resolves each bind source as the app's uid: every directory on the way must
// let that uid through.
Expected<void> Sandbox::check_reachable(const fs::path& host) const {
  const Owner& who = m_settings.identity;
  fs::path walked = "/";
  for (const auto& part : host.parent_path().relative_path()) {
    walked /= part;
    struct stat st {};
    if (::stat(walked.c_str(), &st) != 0) {
      return fail("cannot reach '{}': {}", walked.string(), errno_text(errno));
    }
    mode_t needed = st.st_uid == who.uid ? S_IXUSR : st.st_gid == who.gid ? S_IXGRP : S_IXOTH;
    if ((st.st_mode & needed) == 0) {
      return fail("'{}' is not searchable by uid {}, which the app's processes run as "
                  "(give it o+x: chmod o+x '{}')",
                  walked.string(), who.uid, walked.string());
    }
  }
  return {};
}

bool Sandbox::in_root(const Mount& mount) const {
  return !m_root.empty() && mount.access == Access::read_write &&
         mount.host == m_root / fs::path(mount.inside).relative_path();
}

// What bubblewrap mounts on, made beforehand: it runs as the app's uid, which cannot.
// Each 0755 whatever the umask: the app's uid passes through /var to /var/tmp.
Expected<void> Sandbox::make_mount_points() const {
  std::error_code ec;
  auto dir = [&](const fs::path& inside) -> Expected<void> {
    fs::path at = m_root;
    for (const auto& part : inside.relative_path()) {
      at /= part;
      if (::mkdir(at.c_str(), 0755) == 0) {
        if (::chmod(at.c_str(), 0755) != 0) {
          return fail("cannot create '{}': {}", at.string(), errno_text(errno));
        }
      } else if (errno != EEXIST) {
        return fail("cannot create '{}': {}", at.string(), errno_text(errno));
      }
    }
    return {};
  };
  for (const char* inside : {"/usr", "/etc", "/opt", "/proc", "/dev", "/tmp", "/var/tmp"}) {
    TRY(dir(inside));
  }
  for (const auto& mount : m_mounts) {
    if (!in_root(mount)) {
      TRY(dir(mount.inside));
    }
  }
  for (const char* inside : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    fs::path at = m_root / fs::path(inside).relative_path();
    if (fs::is_symlink(inside, ec)) {
      if (!fs::is_symlink(at, ec)) {
        fs::create_symlink(fs::read_symlink(inside, ec), at, ec);
        if (ec) {
          return fail("cannot create '{}': {}", at.string(), ec.message());
        }
      }
    } else if (fs::is_directory(inside, ec)) {
      TRY(dir(inside));
    }
  }
  return {};
}

Expected<Command> Sandbox::command(const std::vector<std::string>& argv,
                                   const std::map<std::string, std::string>& env) const {
  const SandboxLimits& limits = m_settings.limits;
  const bool switch_user = sandbox_switches_user();
  const bool memory_cgroup = m_settings.cgroups && m_settings.cgroups->memory;
  const bool pids_cgroup = m_settings.cgroups && m_settings.cgroups->pids;

  Command command;
  ChildSetup& child = command.child;
  if (switch_user) {
    child.user = m_settings.identity;
  }
  child.rlimits.emplace_back(RLIMIT_CORE, 0);
  if (limits.open_files > 0) {
    child.rlimits.emplace_back(RLIMIT_NOFILE, capped(RLIMIT_NOFILE, limits.open_files));
  }
  if (limits.file_size > 0) {
    child.rlimits.emplace_back(RLIMIT_FSIZE, capped(RLIMIT_FSIZE, limits.file_size));
  }
  if (limits.memory > 0 && !memory_cgroup) {
    // Without a cgroup, each process's own data: not the sandbox's sum, but a bound.
    child.rlimits.emplace_back(RLIMIT_DATA, capped(RLIMIT_DATA, limits.memory));
  }
  // As the app's own uid, RLIMIT_NPROC counts every process of the app on the host.
  if (limits.processes > 0 && switch_user && !pids_cgroup) {
    child.rlimits.emplace_back(RLIMIT_NPROC, static_cast<std::uint64_t>(limits.processes));
  }
  if (m_settings.cgroups) {
    for (const auto* group : {&m_settings.cgroups->memory, &m_settings.cgroups->pids}) {
      if (*group) {
        auto procs = TRY((*group)->open_procs());
        child.cgroups.push_back(std::make_shared<UniqueFd>(std::move(procs)));
      }
    }
  }

  if (m_settings.mode == SandboxMode::none) {
    command.argv = argv;
    command.clear_env = true;
    command.env = env;
    command.cwd = m_mounts.front().host;
    return command;
  }

  const bool rooted = !m_root.empty() && switch_user;
  if (switch_user) {
    for (const auto& mount : m_mounts) {
      TRY(check_reachable(mount.host));
    }
  }
  if (rooted) {
    TRY(make_mount_points());
  }
  auto seccomp = TRY(seccomp_program());
  auto filter = TRY(memory_file("slipway-seccomp", seccomp));
  const Owner& who = m_settings.identity;
  auto passwd =
      memory_file("slipway-passwd", fmt::format("root:x:0:0:root:/root:/usr/sbin/nologin\n"
                                                "app:x:{}:{}:slipway app:/app:/bin/bash\n"
                                                "nobody:x:65534:65534:nobody:/nonexistent:"
                                                "/usr/sbin/nologin\n",
                                                who.uid, who.gid));
  auto group = memory_file("slipway-group",
                           fmt::format("root:x:0:\napp:x:{}:\nnogroup:x:65534:\n", who.gid));
  // The environment inside, where nothing on the host reads it (nor `ps`).
  std::string env_args = std::string("--clearenv") + '\0';
  for (const auto& [name, value] : env) {
    env_args += fmt::format("--setenv{}{}{}{}{}", '\0', name, '\0', value, '\0');
  }
  auto args = memory_file("slipway-env", env_args);
  for (const auto* made : {&passwd, &group, &args}) {
    if (!*made) {
      return std::unexpected(made->error());
    }
  }
  child.inherit = {filter, *passwd, *group, *args};

  std::error_code ec;
  std::vector<std::string> out = {
      fs::exists("/usr/bin/bwrap", ec) ? "/usr/bin/bwrap" : "bwrap",
      "--unshare-user",
      "--unshare-pid",
      "--unshare-ipc",
      "--unshare-uts",
      "--unshare-cgroup-try",
      "--disable-userns",
      "--die-with-parent",
      "--new-session",
      "--cap-drop",
      "ALL",
      "--hostname",
      "slipway",
  };
  if (!switch_user) {
    out.insert(out.end(), {"--uid", std::to_string(who.uid), "--gid", std::to_string(who.gid)});
  }
  if (rooted) {
    out.insert(out.end(), {"--bind", m_root.string(), "/"});
  }
  out.insert(out.end(), {"--ro-bind", "/usr", "/usr"});
  // Merged-/usr systems (Debian bookworm) have /bin etc. as symlinks into /usr.
  for (const char* dir : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    if (fs::is_symlink(dir, ec)) {
      if (!rooted) { // the root has them: bubblewrap fails on a link that is there
        out.insert(out.end(), {"--symlink", fs::read_symlink(dir, ec).string(), dir});
      }
    } else if (fs::is_directory(dir, ec)) {
      out.insert(out.end(), {"--ro-bind", dir, dir});
    }
  }
  // tmpfs pages are memory: inside the memory cgroup when there is one; without one, the
  // three together are bounded by three quarters of the memory limit.
  std::uint64_t memory = limits.memory > 0 ? limits.memory : 1ull << 30;
  std::string tmp_size = std::to_string(memory_cgroup ? memory : memory / 4);
  out.insert(out.end(), {"--ro-bind",
                         "/etc",
                         "/etc",
                         "--ro-bind-data",
                         descriptor(*passwd),
                         "/etc/passwd",
                         "--ro-bind-data",
                         descriptor(*group),
                         "/etc/group",
                         "--ro-bind-try",
                         "/opt",
                         "/opt",
                         "--proc",
                         "/proc",
                         "--dev",
                         "/dev",
                         "--size",
                         tmp_size,
                         "--tmpfs",
                         "/dev/shm",
                         "--size",
                         tmp_size,
                         "--tmpfs",
                         "/tmp",
                         "--size",
                         tmp_size,
                         "--tmpfs",
                         "/var/tmp"});
  for (const auto& mount : m_mounts) {
    if (rooted && in_root(mount)) {
      continue;
    }
    out.insert(out.end(), {mount.access == Access::read_write ? "--bind" : "--ro-bind",
                           mount.host.string(), mount.inside});
  }
  out.insert(out.end(), {"--seccomp", descriptor(filter), "--args", descriptor(*args), "--chdir",
                         "/app", "--"});
  // Not the app's uid on the host: RLIMIT_NPROC set inside the sandbox's own user namespace
  // counts the sandbox's processes only, which is the bound that can be had.
  if (limits.processes > 0 && !switch_user && !pids_cgroup) {
    out.insert(out.end(),
               {"/bin/bash", "-c", fmt::format("ulimit -u {} && exec \"$@\"", limits.processes),
                "slipway-sandbox"});
  }
  out.insert(out.end(), argv.begin(), argv.end());

  command.argv = std::move(out);
  command.clear_env = true;
  command.env = {{"PATH", k_launcher_path}};
  command.cwd = "/";
  return command;
}

void warn_if_unsandboxed(SandboxMode mode) {
  static std::atomic<bool> warned = false;
  if (mode == SandboxMode::none && !warned.exchange(true)) {
    std::fputs(" !     warning: sandbox = \"none\": buildpacks and processes run on the host, "
               "without /app parity\n",
               stderr);
  }
}

} // namespace slipway
