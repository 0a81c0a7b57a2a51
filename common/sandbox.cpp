#include "common/sandbox.hpp"

#include <atomic>
#include <cstdio>

namespace slipway {

namespace fs = std::filesystem;

Sandbox::Sandbox(SandboxMode mode, fs::path app_dir, Access app_access) : m_mode(mode) {
  m_mounts.push_back({std::move(app_dir), "/app", app_access});
}

void Sandbox::bind(fs::path host, std::string inside, Access access) {
  m_mounts.push_back({std::move(host), std::move(inside), access});
}

std::string Sandbox::path(const std::string& inside) const {
  if (m_mode == SandboxMode::bwrap) {
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

std::vector<std::string> Sandbox::wrap(const std::vector<std::string>& argv) const {
  if (m_mode == SandboxMode::none) {
    return argv;
  }
  std::vector<std::string> out = {
      "bwrap",         "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
      "--new-session", "--ro-bind",         "/usr",          "/usr",
  };
  // Merged-/usr systems (Debian bookworm) have /bin etc. as symlinks into /usr.
  for (const char* dir : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    std::error_code ec;
    if (fs::is_symlink(dir, ec)) {
      out.insert(out.end(), {"--symlink", fs::read_symlink(dir, ec).string(), dir});
    } else if (fs::is_directory(dir, ec)) {
      out.insert(out.end(), {"--ro-bind", dir, dir});
    }
  }
  out.insert(out.end(), {"--ro-bind", "/etc", "/etc", "--ro-bind-try", "/opt", "/opt", "--proc",
                         "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"});
  for (const auto& mount : m_mounts) {
    out.insert(out.end(), {mount.access == Access::read_write ? "--bind" : "--ro-bind",
                           mount.host.string(), mount.inside});
  }
  out.insert(out.end(), {"--chdir", "/app"});
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
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
