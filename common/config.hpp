// slipway.toml: the server's configuration. Every key has a default; unknown keys and
// values of the wrong type are errors that name the key.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/sandbox.hpp"

namespace slipway {

enum class SlugCompression { zstd, gzip };

// What becomes of the Heroku buildpacks an app names ("heroku/nodejs", the URL of
// heroku-buildpack-nodejs): the built-in of that language stands in, or the real one is
// cloned.
enum class OfficialBuildpacks { builtin, clone };

// Where an app's releases run: the daemon's own processes, or a Docker Swarm the daemon
// drives through the Docker Engine API.
enum class Engine { local, swarm };

std::string_view to_string(Engine engine);
// "local" or "swarm"; the error names the values there are.
Expected<Engine> parse_engine(std::string_view text);

struct Config {
  struct Server {
    std::string domain = "localhost";
    int http_port = 8080;
    std::string http_address = "0.0.0.0"; // where the router listens
    std::string deploy_branch;            // empty: main and master both deploy
  } server;
  struct Build {
    std::chrono::milliseconds timeout = std::chrono::minutes(15);
    std::vector<std::string> buildpacks = {"procfile", "nodejs", "python", "go",
                                           "ruby",     "static", "cmake"};
    SlugCompression slug_compression = SlugCompression::zstd;
    std::uint64_t max_slug_size = 500ull * 1024 * 1024;
    SandboxMode sandbox = SandboxMode::bwrap;
    std::uint64_t memory = 2ull << 30;        // a build's sandbox, all its processes
    std::uint64_t max_disk = 2ull << 30;      // what a build may write: build dir and cache
    std::uint64_t min_free_disk = 1ull << 30; // a deploy refuses to start with less free
    // Directories whose buildpacks a pushed app may name by path or file:// URL.
    std::vector<std::filesystem::path> local_buildpacks;
  } build;
  struct Buildpacks {
    OfficialBuildpacks official = OfficialBuildpacks::builtin;
  } buildpacks;
  struct Release {
    std::chrono::milliseconds phase_timeout = std::chrono::hours(1);
    int keep_releases = 20;
  } release;
  struct Runtime {
    int port_min = 20000;
    int port_max = 29999;
    std::chrono::milliseconds health_timeout = std::chrono::seconds(30);
    std::chrono::milliseconds stop_grace = std::chrono::seconds(30);
    // Each app's log is rotated at this size; one rotated file is kept.
    std::uint64_t log_size = 16ull * 1024 * 1024;
    std::uint64_t memory = 512ull << 20; // each process (dyno): killed and restarted past it
    int processes = 512;                 // processes and threads of one app at once
    std::uint64_t max_disk = 1ull << 30; // what each process may write to its /app and /tmp
    // Host uids (and gids) of apps when slipway runs as root, one per app; the first is
    // for `slipway build`, which builds for no app.
    int uid_min = 200000;
    int uid_max = 299999;
  } runtime;
  struct Api {
    // Where the Platform API listens: "ADDRESS:PORT" (port 0: any free one, written to
    // ROOT/run/api.address); empty: it does not.
    std::string listen = "127.0.0.1:5000";
    int max_connections = 256; // open at once; more are refused
    int rate_limit = 4500;     // requests per hour per key, Heroku's
  } api;
  struct Ci {
    int workers = 0; // test nodes running at once; 0: the number of cores
    // A whole run's limit: its test build, test-setup and every node's tests.
    std::chrono::milliseconds timeout = std::chrono::minutes(30);
  } ci;
  struct Ssh {
    // The authorized_keys file slipway keeps its keys' lines in; empty: the running user's
    // ~/.ssh/authorized_keys.
    std::filesystem::path authorized_keys;
  } ssh;
  struct GitHosts {
    // Connected apps may name a repository on a loopback, private or link-local address
    // (a git host on the server's own network); off, a collaborator cannot make the server
    // reach into its network.
    bool allow_private = false;
    // How git hosts reach the webhooks ("https://slipway.example.com"); empty: the API's
    // listen address over http.
    std::string public_url;
    std::chrono::milliseconds fetch_timeout = std::chrono::minutes(10);
  } git_hosts;
  struct Scheduler {
    Engine engine = Engine::local; // every app's, unless app.toml says otherwise
    // The Docker Engine API a swarm app is run through: a manager's Unix socket.
    std::string docker_host = "unix:///var/run/docker.sock";
    // Where a swarm app's images are pushed and the swarm's nodes pull them from:
    // "HOST:PORT" (https), or "http://HOST:PORT" for a registry on the cluster's network.
    std::string registry;
  } scheduler;
  struct Webhooks {
    // Receivers on loopback, private or link-local addresses may be added (tests; a receiver
    // on the server's own network); off, a collaborator cannot make the server probe it.
    bool allow_private = false;
    // How long a `sync` webhook's delivery is retried before it is failed.
    std::chrono::milliseconds retry_for = std::chrono::hours(72);
  } webhooks;
};

// Parses slipway.toml text; `origin` names it in messages.
Expected<Config> parse_config(std::string_view text, std::string_view origin = "slipway.toml");

// Loads ROOT/slipway.toml; a missing file means every default.
Expected<Config> load_config(const std::filesystem::path& file);

// "127.0.0.1:5000" as an address and a port.
Expected<std::pair<std::string, int>> parse_listen_address(std::string_view text);

// "15m", "1h30m", "90s", "250ms".
Expected<std::chrono::milliseconds> parse_duration(std::string_view text);

// "500MB", "1.5GB", "300KiB", "1024" (bytes). K/M/G are binary (1024-based), as in `du -h`.
Expected<std::uint64_t> parse_size(std::string_view text);

// A host name: lowercase DNS labels (letters, digits, inner '-') of 1 to 63 characters,
// joined by '.', at least `min_labels` of them, at most 253 characters. The error says
// what is wrong, without the name.
Expected<void> check_host_name(std::string_view host, int min_labels = 1);

// Whether `host` is `domain` or a name under it ("a.example.com" under "example.com").
bool is_under_domain(std::string_view host, std::string_view domain);

// A name git accepts for a branch (refs/heads/NAME), as far as a deploy branch needs.
bool is_branch_name(std::string_view name);

// A full SHA-1 object id as git prints it: 40 lowercase hex digits.
bool is_commit_id(std::string_view text);

// "24.1MB", "512.0KB", "17B".
std::string format_size(std::uint64_t bytes);

} // namespace slipway
