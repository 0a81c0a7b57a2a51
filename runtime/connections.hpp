// An app connected to a repository on a git host (GitHub, GitLab, Gitea, Forgejo): a push to
// the connected branch deploys it, and pull requests get review apps (ops/connections.hpp).
// slipway's own repository of the app stays the source of truth: what the host has is
// fetched into it, then deployed as a `git push` would be.
//
// ROOT/apps/APP/connection/ (0700) holds:
//   connection.toml  the connection, 0600 (its webhook secret);
//   state.json       what the poll saw last, and the last delivery's outcome;
//   deliveries       the ids of the deliveries received, newest last (a redelivery is done
//                    once);
//   jobs/ID.json     deliveries accepted and not yet done, each removed once done, so that
//                    a worker killed half way leaves its job for the next one;
//   worker.lock      held by the one worker that does the app's jobs.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/file_lock.hpp"
#include "common/time.hpp"
#include "compiler/git_host_event.hpp"
#include "runtime/layout.hpp"

namespace slipway {

// A repository's URL as slipway accepts it: https://, http:// or ssh:// with a host, or
// scp-like user@host:path; never a local path, file://, an option ("-..."), a password or a
// token in the URL (those are credentials: credentials:add), or a control character.
struct RepoUrl {
  std::string url;    // as given, without a trailing '/'
  std::string scheme; // "https", "http", "ssh"
  std::string host;   // lowercased; an IPv6 address without its brackets
  int port = 0;       // 0: the scheme's own
  std::string path;   // "owner/repo": no leading '/', no ".git"
};
Expected<RepoUrl> parse_repo_url(std::string_view url);

// Whether `url` (from a webhook's payload) names the repository `repo`: the same path,
// ignoring case and ".git", or one path the end of the other at a '/' (a host's payload
// names it by its public address, which may not be the one the server fetches from).
bool names_repository(const RepoUrl& repo, std::string_view url);

// Refuses a host that resolves to a loopback, private, link-local or unspecified address,
// unless [git_hosts] allow_private.
Expected<void> check_public_host(const Config& config, const RepoUrl& repo);

struct Connection {
  std::string app;
  std::string id; // a UUID
  GitHost host = GitHost::github;
  RepoUrl repo;
  std::string branch;           // the host's branch that deploys
  std::string credential;       // "": none (a public repository, no statuses)
  std::string api_url;          // the host's API, for statuses: given, or made from the URL
  bool allow_forks = false;     // pull requests from forks get review apps
  std::chrono::seconds poll{0}; // 0: no polling
  std::string secret;           // the webhook secret: 64 hex digits
  std::string owner;    // the key that connected it, whose rights deploys use; "": the local user
  std::string host_key; // ssh: the host key's fingerprint, pinned by the first fetch
  TimePoint created_at{};
};

// The host's API that statuses go to, made from the repository's URL: api.github.com for
// github.com, else https://HOST/api/v3 (GitHub Enterprise), /api/v4 (GitLab), /api/v1
// (Gitea, Forgejo); over http when the repository is.
std::string default_api_url(GitHost host, const RepoUrl& repo);

// The app's connection, if it has one; an error names a damaged file.
Expected<std::optional<Connection>> load_connection(const Layout& layout, const std::string& app);
// Writes it (atomically, 0600, in a 0700 directory).
Expected<void> save_connection(const Layout& layout, const Connection& connection);
// Removes the connection and everything of it (its jobs too).
Expected<void> remove_connection(const Layout& layout, const std::string& app);
// Every connected app's connection, by app; damaged ones are skipped with a warning.
std::vector<Connection> all_connections(const Layout& layout, std::vector<std::string>& warnings);

// What the app's connection saw and did last.
struct ConnectionState {
  TimePoint polled_at{};     // the last poll
  std::string failed_commit; // the last commit whose deploy failed (a poll does not retry it)
  TimePoint delivery_at{};   // the last delivery
  std::string delivery;      // its id
  std::string event;         // "push", "pull_request", ...
  std::string outcome;       // "queued", or why it was ignored
};
ConnectionState load_connection_state(const Layout& layout, const std::string& app);
Expected<void> save_connection_state(const Layout& layout, const std::string& app,
                                     const ConnectionState& state);

// A delivery id as kept: what the host sent when it is 1-100 characters of [A-Za-z0-9._-],
// else the SHA-256 of the body (a redelivery has the same body).
std::string delivery_key(std::string_view header_value, std::string_view body);

// Records delivery `id` as received; false when it was already (the last 1000 are kept).
Expected<bool> note_delivery(const Layout& layout, const std::string& app, const std::string& id);

// A job of the connection's worker.
struct ConnectionJob {
  std::string id;    // the delivery's id, or "poll-TIME"
  std::string kind;  // "push", "pull-request", "poll"
  std::string actor; // who did it on the host: the pusher, the pull request's sender
  TimePoint received_at{};
  // push: the branch and the commit it moved to
  std::string branch;
  std::string commit;
  // pull-request
  int number = 0;
  std::string action; // "opened", "updated", "closed", "merged"
  std::string head_branch;
  bool from_fork = false;
};
nlohmann::json job_json(const ConnectionJob& job);
Expected<ConnectionJob> parse_job(const nlohmann::json& json);

// Queues the job for the app's worker (durably, before the delivery is answered).
Expected<void> queue_connection_job(const Layout& layout, const std::string& app,
                                    const ConnectionJob& job);
// The queued jobs, oldest first, with the file each is in; an unreadable one is an error
// naming it (the worker drops it).
struct QueuedJob {
  std::filesystem::path file;
  Expected<ConnectionJob> job;
};
std::vector<QueuedJob> queued_connection_jobs(const Layout& layout, const std::string& app);

// The worker's lock, if no worker holds it.
std::optional<FileLock> try_lock_connection_worker(const Layout& layout, const std::string& app);

} // namespace slipway
