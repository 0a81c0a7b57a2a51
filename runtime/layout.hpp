// Where everything lives under ROOT (docs/CONTRACTS.md "On-disk layout"). Every path
// slipway builds from a name goes through here, after the name has been validated.
#pragma once

#include <filesystem>
#include <string>

#include "common/config.hpp"
#include "common/error.hpp"

namespace slipway {

class Layout {
 public:
  explicit Layout(std::filesystem::path root) : m_root(std::move(root)) {}

  const std::filesystem::path& root() const { return m_root; }
  // A short name for this root, so two roots on one host keep apart what they share
  // (cgroups): the first 8 hex digits of the SHA-256 of its absolute path.
  std::string id() const;
  std::filesystem::path config_file() const { return m_root / "slipway.toml"; }
  std::filesystem::path apps_dir() const { return m_root / "apps"; }
  std::filesystem::path slugs_dir() const { return m_root / "slugs"; }
  std::filesystem::path repos_dir() const { return m_root / "repos"; }
  std::filesystem::path run_dir() const { return m_root / "run"; }
  std::filesystem::path events_dir() const { return m_root / "events"; }
  std::filesystem::path keys_file() const { return m_root / "keys" / "keys.toml"; }
  // Every ssh request, accepted or refused, one line each.
  std::filesystem::path ssh_audit_log() const { return m_root / "logs" / "ssh.log"; }

  // Callers pass names that validate_app_name accepted.
  std::filesystem::path repo_dir(const std::string& app) const {
    return repos_dir() / (app + ".git");
  }
  std::filesystem::path app_dir(const std::string& app) const { return apps_dir() / app; }
  std::filesystem::path app_file(const std::string& app) const { return app_dir(app) / "app.toml"; }
  std::filesystem::path cache_dir(const std::string& app) const { return app_dir(app) / "cache"; }
  std::filesystem::path tmp_dir(const std::string& app) const { return app_dir(app) / "tmp"; }
  std::filesystem::path releases_dir(const std::string& app) const {
    return app_dir(app) / "releases";
  }
  std::filesystem::path release_dir(const std::string& app, int version) const {
    return releases_dir(app) / ("v" + std::to_string(version));
  }
  std::filesystem::path current_link(const std::string& app) const {
    return app_dir(app) / "current";
  }
  std::filesystem::path lock_file(const std::string& app) const {
    return app_dir(app) / "deploy.lock";
  }
  std::filesystem::path log_dir(const std::string& app) const { return app_dir(app) / "logs"; }
  // A push whose release went live before git moved its branch (push_inflight.hpp).
  std::filesystem::path push_inflight(const std::string& app) const {
    return app_dir(app) / "push.inflight";
  }
  // The host uid (= gid) the app's builds and processes run as, written once.
  std::filesystem::path uid_file(const std::string& app) const { return app_dir(app) / "uid"; }
  // The release's slug unpacked, read by every process of the release; never written.
  std::filesystem::path unpacked_dir(const std::string& app, int version) const {
    return release_dir(app, version) / "app";
  }

  // The daemon's: its socket and lock, nginx's prefix, the processes' scratch copies.
  std::filesystem::path daemon_socket() const { return run_dir() / "slipway.sock"; }
  std::filesystem::path daemon_lock() const { return run_dir() / "daemon.lock"; }
  std::filesystem::path nginx_dir() const { return run_dir() / "nginx"; }
  std::filesystem::path dynos_dir() const { return run_dir() / "dynos"; }
  // `slipway run`'s one-off copies; apart from dynos/, which a starting daemon clears.
  std::filesystem::path oneoff_dir() const { return run_dir() / "oneoff"; }

  // ROOT/slipway.toml, or every default when the file does not exist.
  Expected<Config> config() const { return load_config(config_file()); }

 private:
  std::filesystem::path m_root;
};

struct InitOptions {
  std::string domain; // empty: the default
  int http_port = 0;  // 0: the default
};

// Creates ROOT's directories and, when missing, its slipway.toml. Asking for settings
// when slipway.toml already exists is an error: slipway does not rewrite an admin's file.
Expected<void> init_root(const Layout& layout, const InitOptions& options);

} // namespace slipway
