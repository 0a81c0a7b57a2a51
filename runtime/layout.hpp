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
  // Git-host credentials (credentials.hpp), 0700: NAME.toml each, 0600. `name` validated.
  std::filesystem::path credentials_dir() const { return m_root / "credentials"; }
  std::filesystem::path credential_file(const std::string& name) const {
    return credentials_dir() / (name + ".toml");
  }
  std::filesystem::path authorizations_file() const {
    return m_root / "keys" / "authorizations.toml";
  }
  std::filesystem::path api_address_file() const { return run_dir() / "api.address"; }
  // Serialises uid allocation for new apps (apps.hpp).
  std::filesystem::path uids_lock() const { return apps_dir() / ".uids.lock"; }
  // Serialises the slug store's writers and its pruning (slug_store.hpp).
  std::filesystem::path slugs_lock() const { return slugs_dir() / ".lock"; }
  // The event stream, its one rotated predecessor, its writers' lock (events.hpp).
  std::filesystem::path events_file() const { return events_dir() / "events.jsonl"; }
  std::filesystem::path rotated_events_file() const { return events_dir() / "events.jsonl.1"; }
  std::filesystem::path events_lock() const { return events_dir() / ".lock"; }
  // A subscriber's last handled event id; `subscriber` is a name of slipway's own.
  std::filesystem::path event_cursor(const std::string& subscriber) const {
    return events_dir() / "cursors" / subscriber;
  }
  // Pipelines (pipelines.hpp): their list, its writers' lock, and each promotion's record
  // and the lock its runner holds. `id` is a UUID the caller validated.
  std::filesystem::path pipelines_dir() const { return m_root / "pipelines"; }
  std::filesystem::path pipelines_file() const { return pipelines_dir() / "pipelines.toml"; }
  std::filesystem::path pipelines_lock() const { return pipelines_dir() / ".lock"; }
  std::filesystem::path promotions_dir() const { return pipelines_dir() / "promotions"; }
  std::filesystem::path promotion_file(const std::string& id) const {
    return promotions_dir() / (id + ".toml");
  }
  std::filesystem::path promotion_lock(const std::string& id) const {
    return promotions_dir() / (id + ".lock");
  }
  // A pipeline's review config vars (review_apps.hpp), 0600: `id` is the pipeline's UUID.
  std::filesystem::path review_config_file(const std::string& id) const {
    return pipelines_dir() / "review-config" / (id + ".toml");
  }
  // CI test runs (test_runs.hpp), numbered server-wide: their records, each one's logs
  // (build.log, node-I.log) and the lock its runner holds, and the numbering's lock.
  std::filesystem::path ci_dir() const { return m_root / "ci"; }
  std::filesystem::path test_runs_lock() const { return ci_dir() / ".lock"; }
  std::filesystem::path test_run_file(int number) const {
    return ci_dir() / (std::to_string(number) + ".toml");
  }
  std::filesystem::path test_run_dir(int number) const { return ci_dir() / std::to_string(number); }
  std::filesystem::path test_run_lock(int number) const {
    return ci_dir() / (std::to_string(number) + ".lock");
  }
  // Every ssh request, accepted or refused, one line each.
  std::filesystem::path ssh_audit_log() const { return m_root / "logs" / "ssh.log"; }

  // Callers pass names that validate_app_name accepted.
  std::filesystem::path repo_dir(const std::string& app) const {
    return repos_dir() / (app + ".git");
  }
  std::filesystem::path app_dir(const std::string& app) const { return apps_dir() / app; }
  std::filesystem::path app_file(const std::string& app) const { return app_dir(app) / "app.toml"; }
  std::filesystem::path cache_dir(const std::string& app) const { return app_dir(app) / "cache"; }
  // CI test builds' own cache: what a tested branch leaves never reaches a deploy's build.
  std::filesystem::path test_cache_dir(const std::string& app) const {
    return app_dir(app) / "test-cache";
  }
  std::filesystem::path tmp_dir(const std::string& app) const { return app_dir(app) / "tmp"; }
  // What an operation removes after it, off the push's path (housekeeping empties it).
  std::filesystem::path trash_dir(const std::string& app) const { return app_dir(app) / "trash"; }
  // Each build's output, N.log (builds.hpp).
  std::filesystem::path builds_dir(const std::string& app) const { return app_dir(app) / "builds"; }
  std::filesystem::path build_log(const std::string& app, int id) const {
    return builds_dir(app) / (std::to_string(id) + ".log");
  }
  std::filesystem::path build_record(const std::string& app, int id) const {
    return builds_dir(app) / (std::to_string(id) + ".toml");
  }
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
  // The app's git-host connection (connections.hpp), 0700: connection.toml (0600, it holds
  // the webhook secret), state.json, deliveries, jobs/, worker.lock.
  std::filesystem::path connection_dir(const std::string& app) const {
    return app_dir(app) / "connection";
  }
  // The release's slug unpacked, read by every process of the release; never written.
  std::filesystem::path unpacked_dir(const std::string& app, int version) const {
    return release_dir(app, version) / "app";
  }

  // The daemon's: its socket and lock, nginx's prefix, the processes' scratch copies.
  std::filesystem::path daemon_socket() const { return run_dir() / "slipway.sock"; }
  std::filesystem::path daemon_lock() const { return run_dir() / "daemon.lock"; }
  // The running daemon's pid, for stopping what a killed one left behind.
  std::filesystem::path daemon_pid_file() const { return run_dir() / "daemon.pid"; }
  // Serialises changes to which app owns which domain (ops/domains.hpp).
  std::filesystem::path domains_lock() const { return run_dir() / "domains.lock"; }
  std::filesystem::path nginx_dir() const { return run_dir() / "nginx"; }
  std::filesystem::path dynos_dir() const { return run_dir() / "dynos"; }
  // One run of one process: its copy of the app and its scratch files. `run` names the run
  // ("web.1-7"), made by the daemon from the process type and a counter.
  std::filesystem::path dyno_dir(const std::string& app, const std::string& run) const {
    return dynos_dir() / app / run;
  }
  // `slipway run`'s one-off copies; apart from dynos/, which a starting daemon clears.
  std::filesystem::path oneoff_dir() const { return run_dir() / "oneoff"; }
  std::filesystem::path oneoff_dir(const std::string& app, const std::string& dyno) const {
    return oneoff_dir() / (app + "-" + dyno);
  }
  // "PID START_TIME" of a one-off's process group while it runs, for `ps:stop run.N`.
  std::filesystem::path oneoff_record(const std::string& app, const std::string& dyno) const {
    return oneoff_dir() / (app + "-" + dyno + ".pid");
  }

  // ROOT/slipway.toml, or every default when the file does not exist.
  Expected<Config> config() const { return load_config(config_file()); }

 private:
  std::filesystem::path m_root;
};

struct InitOptions {
  std::string domain;     // empty: the default
  int http_port = 0;      // 0: the default
  std::string api_listen; // [api] listen; empty: the default
};

// Creates ROOT's directories and, when missing, its slipway.toml. Asking for settings
// when slipway.toml already exists is an error: slipway does not rewrite an admin's file.
Expected<void> init_root(const Layout& layout, const InitOptions& options);

} // namespace slipway
