// Where buildpacks, the release phase and processes run: with `sandbox = "bwrap"`, a
// bubblewrap container with the app dir at /app (HOME=/app), read-only system dirs, its
// own pid namespace and no life beyond its parent; with `sandbox = "none"`, on the host,
// with the same roles played by host paths (no /app parity, so it warns).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace slipway {

enum class SandboxMode { bwrap, none };

class Sandbox {
 public:
  enum class Access { read_only, read_write };

  Sandbox(SandboxMode mode, std::filesystem::path app_dir, Access app_access = Access::read_write);

  // Makes `host` visible at `inside` (an absolute path such as "/cache").
  void bind(std::filesystem::path host, std::string inside, Access access);

  // The path the sandboxed command must be given for `inside` ("/app", "/cache/x"):
  // itself under bwrap, the bound host path under "none".
  std::string path(const std::string& inside) const;

  // The argv that runs `argv` inside the sandbox, starting in /app.
  std::vector<std::string> wrap(const std::vector<std::string>& argv) const;

  SandboxMode mode() const { return m_mode; }

 private:
  struct Mount {
    std::filesystem::path host;
    std::string inside;
    Access access;
  };

  SandboxMode m_mode;
  std::vector<Mount> m_mounts; // m_mounts[0] is /app
};

// Printed once per process the first time a "none" sandbox is used.
void warn_if_unsandboxed(SandboxMode mode);

} // namespace slipway
