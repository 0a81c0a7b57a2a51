#include "runtime/connections.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <sys/stat.h>

#include <toml++/toml.h>

#include "common/files.hpp"
#include "common/hash.hpp"
#include "common/output.hpp"
#include "common/private_hosts.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_kept_deliveries = 1000;

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "owner/repo" from a URL's path: leading '/' and '~' kept out, ".git" and '/' at the end
// dropped; each segment a name a host allows.
std::optional<std::string> repository_path(std::string_view path) {
  while (path.starts_with('/')) {
    path.remove_prefix(1);
  }
  while (path.ends_with('/')) {
    path.remove_suffix(1);
  }
  if (path.ends_with(".git")) {
    path.remove_suffix(4);
  }
  if (path.empty() || path.size() > 255) {
    return std::nullopt;
  }
  std::size_t segments = 0;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    std::string_view segment =
        path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    bool valid = !segment.empty() && segment != "." && segment != ".." &&
                 !segment.starts_with('-') && std::ranges::all_of(segment, [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                          c == '.' || c == '~';
                 });
    if (!valid) {
      return std::nullopt;
    }
    ++segments;
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  return segments >= 2 ? std::optional(std::string(path)) : std::nullopt;
}

bool valid_host(std::string_view host) {
  return !host.empty() && host.size() <= 253 && !host.starts_with('-') &&
         std::ranges::all_of(host, [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':';
         });
}

fs::path connection_file(const Layout& layout, const std::string& app) {
  return layout.connection_dir(app) / "connection.toml";
}

fs::path jobs_dir(const Layout& layout, const std::string& app) {
  return layout.connection_dir(app) / "jobs";
}

Expected<void> make_connection_dir(const Layout& layout, const std::string& app) {
  std::error_code ec;
  fs::create_directories(jobs_dir(layout, app), ec);
  if (ec) {
    return fail("cannot create {}: {}", jobs_dir(layout, app).string(), ec.message());
  }
  ::chmod(layout.connection_dir(app).c_str(), 0700);
  return {};
}

} // namespace

Expected<RepoUrl> parse_repo_url(std::string_view text) {
  auto refuse = [&](std::string_view why) -> Expected<RepoUrl> {
    return usage_error("cannot connect to '{}': {}", printable(text.substr(0, 200)), why);
  };
  std::string_view url = text;
  while (url.ends_with('/')) {
    url.remove_suffix(1);
  }
  if (url.empty() || url.size() > 1024) {
    return refuse("a repository URL is 1 to 1024 characters");
  }
  if (std::ranges::any_of(url, [](char c) { return c <= ' ' || c >= 127; })) {
    return refuse("it holds a space or a control character");
  }
  if (url.starts_with('-')) {
    return refuse("a URL cannot start with '-'");
  }
  if (url.find_first_of("?#\\\"'`$") != std::string_view::npos) {
    return refuse("it holds a character no repository URL needs (? # \\ quotes $)");
  }
  RepoUrl repo{.url = std::string(url)};
  std::string_view authority;
  std::string_view path;
  auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    repo.scheme = lowercase(url.substr(0, scheme_end));
    if (repo.scheme != "https" && repo.scheme != "http" && repo.scheme != "ssh") {
      return refuse("only https://, http:// and ssh:// URLs (or user@host:path) can be fetched");
    }
    std::string_view rest = url.substr(scheme_end + 3);
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
      return refuse("it names no repository (https://HOST/OWNER/REPO)");
    }
    authority = rest.substr(0, slash);
    path = rest.substr(slash);
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
      std::string_view user = authority.substr(0, at);
      if (repo.scheme != "ssh") {
        return refuse("a user or token in an http(s) URL would be stored and shown: add it with "
                      "slipway credentials:add NAME --token - and pass --credential NAME");
      }
      if (user.find(':') != std::string_view::npos) {
        return refuse("a password in the URL would be stored and shown: use a deploy key "
                      "(credentials:add NAME --ssh-key FILE)");
      }
      authority = authority.substr(at + 1);
    }
    if (authority.starts_with('[')) {
      auto close = authority.find(']');
      if (close == std::string_view::npos) {
        return refuse("its IPv6 address has no ']'");
      }
      repo.host = lowercase(authority.substr(1, close - 1));
      authority = authority.substr(close + 1);
      if (!authority.empty() && !authority.starts_with(':')) {
        return refuse("its host is malformed");
      }
    } else {
      auto colon = authority.find(':');
      repo.host = lowercase(authority.substr(0, colon));
      authority = colon == std::string_view::npos ? "" : authority.substr(colon);
    }
    if (authority.starts_with(':')) {
      std::string_view digits = authority.substr(1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), repo.port);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
          repo.port < 1 || repo.port > 65535) {
        return refuse("its port is not a number from 1 to 65535");
      }
    }
  } else {
    // scp-like: [user@]host:path, which git reads as ssh.
    auto colon = url.find(':');
    auto slash = url.find('/');
    if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon)) {
      return refuse("a local path cannot be connected; give the host's URL "
                    "(https://HOST/OWNER/REPO or git@HOST:OWNER/REPO)");
    }
    repo.scheme = "ssh";
    std::string_view host = url.substr(0, colon);
    if (auto at = host.rfind('@'); at != std::string_view::npos) {
      host = host.substr(at + 1);
    }
    repo.host = lowercase(host);
    path = url.substr(colon + 1);
  }
  if (!valid_host(repo.host) || (repo.host.find(':') != std::string::npos && repo.port == 0 &&
                                 std::ranges::count(repo.host, ':') < 2)) {
    return refuse("its host is not a host name or an address");
  }
  auto owner_repo = repository_path(path);
  if (!owner_repo) {
    return refuse("its path is not OWNER/REPO (letters, digits, '.', '-', '_' each)");
  }
  repo.path = *owner_repo;
  return repo;
}

bool names_repository(const RepoUrl& repo, std::string_view url) {
  auto other = parse_repo_url(url);
  if (!other) {
    return false;
  }
  // Over ssh a self-hosted server may name it by its path on disk (/srv/git/acme/shop.git):
  // the shorter path must be the longer one's end, segment for segment.
  std::string a = lowercase(repo.path);
  std::string b = lowercase(other->path);
  if (a.size() < b.size()) {
    std::swap(a, b);
  }
  return a == b || (a.ends_with(b) && a[a.size() - b.size() - 1] == '/');
}

Expected<void> check_public_host(const Config& config, const RepoUrl& repo) {
  if (config.git_hosts.allow_private) {
    return {};
  }
  return refuse_private_host(repo.host, "[git_hosts] allow_private");
}

std::string default_api_url(GitHost host, const RepoUrl& repo) {
  std::string scheme = repo.scheme == "http" ? "http" : "https";
  std::string authority =
      repo.host.find(':') != std::string::npos ? "[" + repo.host + "]" : repo.host;
  if (repo.scheme != "ssh" && repo.port != 0) {
    authority += ":" + std::to_string(repo.port);
  }
  switch (host) {
  case GitHost::github:
    return repo.host == "github.com" ? "https://api.github.com"
                                     : fmt::format("{}://{}/api/v3", scheme, authority);
  case GitHost::gitlab:
    return fmt::format("{}://{}/api/v4", scheme, authority);
  case GitHost::gitea:
  case GitHost::forgejo:
    return fmt::format("{}://{}/api/v1", scheme, authority);
  }
  return "";
}

Expected<std::optional<Connection>> load_connection(const Layout& layout, const std::string& app) {
  fs::path file = connection_file(layout, app);
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(file, ec))) {
    return std::nullopt;
  }
  auto text = TRY(read_file(file));
  std::string origin = file.string();
  auto damaged = [&](std::string_view why) -> Expected<std::optional<Connection>> {
    return fail("{} is damaged: {}; connect the app again (apps:connect)", origin, why);
  };
  try {
    auto table = toml::parse(text, origin);
    Connection connection{.app = app};
    auto string = [&](const char* key) { return table[key].value_or<std::string>(""); };
    connection.id = string("id");
    auto host = parse_git_host(string("host"));
    auto repo = parse_repo_url(string("url"));
    if (!host || !repo) {
      return damaged(!host ? host.error().message : repo.error().message);
    }
    connection.host = *host;
    connection.repo = *repo;
    connection.branch = string("branch");
    connection.credential = string("credential");
    connection.api_url = string("api_url");
    connection.allow_forks = table["allow_forks"].value_or(false);
    connection.poll = std::chrono::seconds(table["poll_seconds"].value_or<std::int64_t>(0));
    connection.secret = string("secret");
    connection.owner = string("owner");
    connection.host_key = string("host_key");
    if (auto created = table["created_at"].value<toml::date_time>()) {
      connection.created_at = from_toml_time(*created);
    }
    if (connection.id.empty() || !is_branch_name(connection.branch) ||
        connection.secret.size() != 64 || connection.api_url.empty() ||
        connection.poll.count() < 0) {
      return damaged("id, branch, secret and api_url are required");
    }
    return connection;
  } catch (const toml::parse_error& error) {
    return damaged(fmt::format("corrupt at line {}", error.source().begin.line));
  }
}

Expected<void> save_connection(const Layout& layout, const Connection& connection) {
  TRY(make_connection_dir(layout, connection.app));
  toml::table table{{"id", connection.id},
                    {"host", std::string(to_string(connection.host))},
                    {"url", connection.repo.url},
                    {"branch", connection.branch},
                    {"credential", connection.credential},
                    {"api_url", connection.api_url},
                    {"allow_forks", connection.allow_forks},
                    {"poll_seconds", static_cast<std::int64_t>(connection.poll.count())},
                    {"secret", connection.secret},
                    {"owner", connection.owner},
                    {"host_key", connection.host_key},
                    {"created_at", to_toml_time(connection.created_at)}};
  std::ostringstream out;
  out << table << "\n";
  return write_file_atomic(connection_file(layout, connection.app), out.str(), 0600);
}

Expected<void> remove_connection(const Layout& layout, const std::string& app) {
  std::error_code ec;
  fs::remove_all(layout.connection_dir(app), ec);
  if (ec) {
    return fail("cannot remove {}: {}", layout.connection_dir(app).string(), ec.message());
  }
  return {};
}

std::vector<Connection> all_connections(const Layout& layout, std::vector<std::string>& warnings) {
  std::vector<Connection> connections;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(layout.apps_dir(), ec)) {
    std::string app = entry.path().filename().string();
    if (!fs::exists(connection_file(layout, app), ec)) {
      continue;
    }
    auto connection = load_connection(layout, app);
    if (!connection) {
      warnings.push_back(connection.error().message);
    } else if (*connection) {
      connections.push_back(std::move(**connection));
    }
  }
  std::ranges::sort(connections, {}, &Connection::app);
  return connections;
}

ConnectionState load_connection_state(const Layout& layout, const std::string& app) {
  ConnectionState state;
  auto text = read_file(layout.connection_dir(app) / "state.json");
  if (!text) {
    return state;
  }
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object()) {
    return state;
  }
  auto time = [&](const char* key) {
    auto value = json.value(key, std::int64_t{0});
    return TimePoint(std::chrono::seconds(value));
  };
  state.polled_at = time("polled_at");
  state.delivery_at = time("delivery_at");
  state.failed_commit = json.value("failed_commit", "");
  state.delivery = json.value("delivery", "");
  state.event = json.value("event", "");
  state.outcome = json.value("outcome", "");
  return state;
}

Expected<void> save_connection_state(const Layout& layout, const std::string& app,
                                     const ConnectionState& state) {
  TRY(make_connection_dir(layout, app));
  auto seconds = [](TimePoint when) {
    return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
  };
  nlohmann::json json{{"polled_at", seconds(state.polled_at)},
                      {"delivery_at", seconds(state.delivery_at)},
                      {"failed_commit", state.failed_commit},
                      {"delivery", state.delivery},
                      {"event", state.event},
                      {"outcome", state.outcome}};
  return write_file_atomic(layout.connection_dir(app) / "state.json", json.dump() + "\n", 0600);
}

std::string delivery_key(std::string_view header_value, std::string_view body) {
  bool usable =
      !header_value.empty() && header_value.size() <= 100 &&
      std::ranges::all_of(header_value, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  return usable ? std::string(header_value) : "sha256-" + sha256_hex(body);
}

Expected<bool> note_delivery(const Layout& layout, const std::string& app, const std::string& id) {
  TRY(make_connection_dir(layout, app));
  fs::path file = layout.connection_dir(app) / "deliveries";
  auto lock = TRY(
      FileLock::acquire(layout.connection_dir(app) / "deliveries.lock", FileLock::Mode::exclusive));
  std::vector<std::string> seen;
  if (auto text = read_file(file)) {
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
      if (line == id) {
        return false;
      }
      seen.push_back(line);
    }
  }
  seen.push_back(id);
  std::size_t from = seen.size() > k_kept_deliveries ? seen.size() - k_kept_deliveries : 0;
  std::string out;
  for (std::size_t i = from; i < seen.size(); ++i) {
    out += seen[i] + "\n";
  }
  TRY(write_file_atomic(file, out, 0600));
  return true;
}

nlohmann::json job_json(const ConnectionJob& job) {
  return {{"id", job.id},
          {"kind", job.kind},
          {"actor", job.actor},
          {"received_at",
           std::chrono::duration_cast<std::chrono::seconds>(job.received_at.time_since_epoch())
               .count()},
          {"branch", job.branch},
          {"commit", job.commit},
          {"number", job.number},
          {"action", job.action},
          {"head_branch", job.head_branch},
          {"from_fork", job.from_fork}};
}

Expected<ConnectionJob> parse_job(const nlohmann::json& json) {
  try {
    ConnectionJob job{.id = json.at("id").get<std::string>(),
                      .kind = json.at("kind").get<std::string>(),
                      .actor = json.value("actor", ""),
                      .branch = json.value("branch", ""),
                      .commit = json.value("commit", ""),
                      .number = json.value("number", 0),
                      .action = json.value("action", ""),
                      .head_branch = json.value("head_branch", ""),
                      .from_fork = json.value("from_fork", false)};
    job.received_at = TimePoint(std::chrono::seconds(json.value("received_at", std::int64_t{0})));
    if (job.kind != "push" && job.kind != "pull-request" && job.kind != "poll") {
      return fail("unknown job kind '{}'", printable(job.kind.substr(0, 40)));
    }
    return job;
  } catch (const nlohmann::json::exception& error) {
    return fail("malformed job: {}", error.what());
  }
}

Expected<void> queue_connection_job(const Layout& layout, const std::string& app,
                                    const ConnectionJob& job) {
  TRY(make_connection_dir(layout, app));
  // Named by the time it came, then its id's hash: listed oldest first.
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  std::string name = fmt::format("{:020}-{}.json", nanos, sha256_hex(job.id).substr(0, 16));
  return write_file_atomic(jobs_dir(layout, app) / name, job_json(job).dump() + "\n", 0600);
}

std::vector<QueuedJob> queued_connection_jobs(const Layout& layout, const std::string& app) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(jobs_dir(layout, app), ec)) {
    if (entry.path().extension() == ".json" && entry.is_regular_file(ec)) {
      files.push_back(entry.path());
    }
  }
  std::ranges::sort(files);
  std::vector<QueuedJob> jobs;
  for (auto& file : files) {
    auto text = read_file(file);
    Expected<ConnectionJob> job = fail("");
    if (!text) {
      job = std::unexpected(text.error());
    } else {
      auto json = nlohmann::json::parse(*text, nullptr, false);
      job = json.is_object() ? parse_job(json) : fail("{} is not a JSON object", file.string());
    }
    jobs.push_back({.file = std::move(file), .job = std::move(job)});
  }
  return jobs;
}

std::optional<FileLock> try_lock_connection_worker(const Layout& layout, const std::string& app) {
  if (!make_connection_dir(layout, app)) {
    return std::nullopt;
  }
  auto lock =
      FileLock::try_acquire(layout.connection_dir(app) / "worker.lock", FileLock::Mode::exclusive);
  if (!lock || !*lock) {
    return std::nullopt;
  }
  return std::move(**lock);
}

} // namespace slipway
