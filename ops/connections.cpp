// Connecting apps to git hosts, and what a webhook delivery does (connections.hpp). The
// worker that does the deliveries' jobs: connection_jobs.cpp.
#include "ops/connections.hpp"

#include <algorithm>

#include <fmt/ranges.h>

#include "common/files.hpp"
#include "common/output.hpp"
#include "common/paths.hpp"
#include "common/random.hpp"
#include "common/subprocess.hpp"
#include "compiler/git.hpp"
#include "ops/connection_fetch.hpp"
#include "ops/review_app_lifecycle.hpp"
#include "ops/rights.hpp"
#include "ops/settings.hpp"
#include "runtime/apps.hpp"
#include "runtime/credentials.hpp"
#include "runtime/events.hpp"

namespace slipway::ops {

namespace {

constexpr std::chrono::seconds k_min_poll{10};
constexpr std::chrono::seconds k_max_poll = std::chrono::hours(24);

// The host a well-known address is.
std::optional<GitHost> host_of(const RepoUrl& repo) {
  if (repo.host == "github.com" || repo.host == "ssh.github.com") {
    return GitHost::github;
  }
  if (repo.host == "gitlab.com") {
    return GitHost::gitlab;
  }
  if (repo.host == "codeberg.org") {
    return GitHost::forgejo;
  }
  if (repo.host == "gitea.com") {
    return GitHost::gitea;
  }
  return std::nullopt;
}

Expected<std::string> checked_api_url(std::string_view url) {
  std::string out(url);
  while (out.ends_with('/')) {
    out.pop_back();
  }
  bool ok = (out.starts_with("https://") || out.starts_with("http://")) && out.size() < 512 &&
            std::ranges::none_of(out, [](char c) {
              return c <= ' ' || c >= 127 || c == '?' || c == '#' || c == '"' || c == '\\';
            });
  if (!ok) {
    return usage_error("--api-url '{}' is not an http:// or https:// URL",
                       printable(url.substr(0, 200)));
  }
  return out;
}

void record_connection(const Layout& layout, const Config& config, const std::string& app,
                       std::string actor, std::string action, nlohmann::json data) {
  Event event{.app = app,
              .resource = "connection",
              .action = std::move(action),
              .actor = std::move(actor),
              .data = std::move(data)};
  [[maybe_unused]] auto recorded = record_event(layout, config, std::move(event));
}

ConnectionInfo info_of(const Layout& layout, const Config& config, Connection connection) {
  ConnectionInfo info{.webhook_url = webhook_url(layout, config, connection.host),
                      .state = load_connection_state(layout, connection.app),
                      .queued = queued_connection_jobs(layout, connection.app).size()};
  info.connection = std::move(connection);
  return info;
}

// Who did it on the host, as events name them: "github:octocat".
std::string host_actor(GitHost host, std::string_view name) {
  std::string clean;
  for (char c : name.substr(0, 64)) {
    clean +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '-';
  }
  return fmt::format("{}:{}", to_string(host), clean.empty() ? "unknown" : clean);
}

// What a delivery asks of `connection`: a job, or why it asks nothing (and the HTTP status
// that says so: 200 for a ping, 202 for the rest).
struct Decision {
  std::optional<ConnectionJob> job;
  std::string reason;
  int status = 202;
};

Decision decide(const Layout& layout, const Connection& connection, const GitHostEvent& event) {
  using Kind = GitHostEvent::Kind;
  if (event.kind == Kind::ping) {
    return {.reason =
                fmt::format("ping: {} is connected to {}", connection.app, connection.repo.path),
            .status = 200};
  }
  if (event.kind == Kind::other) {
    return {.reason = fmt::format("event '{}' means nothing here: slipway acts on pushes and "
                                  "pull requests",
                                  printable(event.name))};
  }
  if (!event.repository_urls.empty() &&
      std::ranges::none_of(event.repository_urls, [&](const std::string& url) {
        return names_repository(connection.repo, url);
      })) {
    return {.reason = fmt::format("the delivery is about {}, not {}, which {} is connected to",
                                  printable(event.repository_urls.front().substr(0, 200)),
                                  connection.repo.path, connection.app)};
  }
  if (event.kind == Kind::push) {
    if (event.branch.empty()) {
      return {.reason = "a push of a tag deploys nothing"};
    }
    if (event.branch != connection.branch) {
      return {.reason = fmt::format("branch {} is not {}'s connected branch {}", event.branch,
                                    connection.app, connection.branch)};
    }
    if (event.after.empty()) {
      return {.reason = fmt::format("branch {} was deleted on the host; {} keeps its release",
                                    event.branch, connection.app)};
    }
    return {
        .job = ConnectionJob{
            .kind = "push", .actor = event.actor, .branch = event.branch, .commit = event.after}};
  }
  // A pull request.
  bool changes_code = event.action == "opened" || event.action == "updated";
  if (!changes_code && event.action != "closed" && event.action != "merged") {
    return {.reason = fmt::format("pull request #{} {}: that changes no review app", event.number,
                                  printable(event.action))};
  }
  if (changes_code && event.from_fork && !connection.allow_forks) {
    return {.reason = fmt::format("pull request #{} comes from a fork, whose code would run with "
                                  "the review config: connect with --allow-forks to allow it",
                                  event.number)};
  }
  if (changes_code) {
    auto pipeline = parent_pipeline(layout, connection.app);
    if (!pipeline || !pipeline->review_apps) {
      return {.reason = fmt::format("{} is not the review parent of a pipeline with review apps "
                                    "enabled (reviewapps:enable -p PIPELINE)",
                                    connection.app)};
    }
  }
  return {.job = ConnectionJob{.kind = "pull-request",
                               .actor = event.actor,
                               .commit = event.head_commit,
                               .number = event.number,
                               .action = event.action,
                               .head_branch = event.head_branch,
                               .from_fork = event.from_fork}};
}

std::string_view event_header(GitHost format, const HeaderLookup& header) {
  switch (format) {
  case GitHost::github:
    return header("X-GitHub-Event");
  case GitHost::gitlab:
    return header("X-Gitlab-Event");
  case GitHost::gitea:
  case GitHost::forgejo: {
    std::string_view name = header("X-Gitea-Event");
    return name.empty() ? header("X-Forgejo-Event") : name;
  }
  }
  return "";
}

} // namespace

std::string webhook_url(const Layout& layout, const Config& config, GitHost host) {
  std::string base = config.git_hosts.public_url;
  if (base.empty()) {
    // Where the API listens now (its port may have been chosen when it started), else where
    // it is told to.
    auto address = read_file(layout.api_address_file());
    std::string listen = address ? address->substr(0, address->find('\n')) : config.api.listen;
    base = "http://" + listen;
  }
  return base + std::string(webhook_path(host));
}

Expected<ConnectionInfo> connect_app(const Context& context, const ConnectApp& request) {
  TRY(authorize(context, "apps:connect", request.app));
  auto app = TRY(app_info(context.layout, request.app));
  RepoUrl repo = TRY(parse_repo_url(request.url));
  auto host = request.host ? request.host : host_of(repo);
  if (!host) {
    return usage_error("which host is {}? Pass --host github, gitlab, gitea or forgejo", repo.host);
  }
  std::string branch =
      request.branch.empty() ? deploy_branches(context.config, app).front() : request.branch;
  if (!is_branch_name(branch)) {
    return usage_error("'{}' is not a branch name", printable(branch.substr(0, 100)));
  }
  if (!request.credential.empty()) {
    TRY(load_credential(context.layout, request.credential));
  }
  if (request.poll.count() != 0 && (request.poll < k_min_poll || request.poll > k_max_poll)) {
    return usage_error("--poll is from {} to {}", format_duration(k_min_poll),
                       format_duration(k_max_poll));
  }
  Connection connection{.app = request.app,
                        .id = TRY(random_uuid()),
                        .host = *host,
                        .repo = repo,
                        .branch = branch,
                        .credential = request.credential,
                        .api_url = request.api_url.empty() ? default_api_url(*host, repo)
                                                           : TRY(checked_api_url(request.api_url)),
                        .allow_forks = request.allow_forks,
                        .poll = request.poll,
                        .secret = TRY(random_hex(32)),
                        .owner = context.actor.local ? "" : context.actor.name,
                        .created_at = std::chrono::time_point_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now())};
  // Told now rather than at the first push: the URL, the branch and the credential work.
  context.on_output(step_line(fmt::format("Fetching {} from {}", branch, repo.url)));
  TRY(fetch_connected(context.layout, context.config, connection,
                      {"+refs/heads/" + branch + ":" + connected_ref(branch)}));
  if (!TRY(git::read_ref(context.layout.repo_dir(request.app), connected_ref(branch)))) {
    return fail_as(ErrorKind::not_found, "{} has no branch {}", repo.url, branch);
  }
  TRY(remove_connection(context.layout, request.app));
  TRY(save_connection(context.layout, connection));
  record(context, {.app = request.app,
                   .resource = "connection",
                   .action = "created",
                   .data = {{"host", to_string(connection.host)},
                            {"repository", repo.path},
                            {"branch", branch},
                            {"poll", connection.poll.count()},
                            {"message", fmt::format("Connected to {} ({}), branch {}", repo.url,
                                                    to_string(connection.host), branch)}}});
  return info_of(context.layout, context.config, std::move(connection));
}

Expected<void> disconnect_app(const Context& context, const std::string& app) {
  TRY(authorize(context, "apps:disconnect", app));
  auto connection = TRY(load_connection(context.layout, app));
  if (!connection) {
    return fail_as(ErrorKind::not_found, "{} is not connected to a git host", app);
  }
  TRY(remove_connection(context.layout, app));
  record(context,
         {.app = app,
          .resource = "connection",
          .action = "destroyed",
          .data = {{"message", fmt::format("Disconnected from {}", connection->repo.url)}}});
  return {};
}

Expected<ConnectionInfo> app_connection(const Context& context, const std::string& app) {
  TRY(authorize(context, "apps:connection", app));
  auto connection = TRY(load_connection(context.layout, app));
  if (!connection) {
    return fail_as(ErrorKind::not_found,
                   "{} is not connected to a git host (slipway apps:connect -a {} URL)", app, app);
  }
  connection->secret.clear();
  return info_of(context.layout, context.config, std::move(*connection));
}

WebhookReply receive_webhook(const Layout& layout, const Config& config,
                             const WebhookRequest& request) {
  std::vector<std::string> warnings;
  std::vector<Connection> signed_by;
  for (auto& connection : all_connections(layout, warnings)) {
    bool same_format = connection.host == request.format ||
                       (request.format == GitHost::gitea && connection.host == GitHost::forgejo);
    if (same_format &&
        verify_webhook(request.format, request.header, request.body, connection.secret)) {
      signed_by.push_back(std::move(connection));
    }
  }
  if (signed_by.empty()) {
    return {.status = 401,
            .message = "The signature is missing or matches no connected app's secret: nothing "
                       "was done."};
  }
  auto event = parse_git_host_event(request.format, event_header(request.format, request.header),
                                    request.body);
  if (!event) {
    for (const auto& connection : signed_by) {
      record_connection(layout, config, connection.app, std::string(to_string(connection.host)),
                        "refused",
                        {{"reason", event.error().message},
                         {"message", "A delivery was refused: " + event.error().message}});
    }
    return {.status = 400, .message = event.error().message};
  }
  std::string delivery =
      delivery_key(delivery_header(request.format, request.header), request.body);
  bool queued = false;
  bool all_ok = true; // every connection answered 200: a ping, a redelivery
  std::vector<std::string> said;
  for (const auto& connection : signed_by) {
    Decision decision = decide(layout, connection, *event);
    std::string actor = host_actor(connection.host, event->actor);
    if (decision.job) {
      auto fresh = note_delivery(layout, connection.app, delivery);
      if (!fresh) {
        return {.status = 503, .message = fresh.error().message};
      }
      if (!*fresh) {
        decision = {.reason = fmt::format("delivery {} was received already", delivery),
                    .status = 200};
      }
    }
    if (decision.job) {
      decision.job->id = delivery;
      decision.job->received_at = std::chrono::system_clock::now();
      if (auto written = queue_connection_job(layout, connection.app, *decision.job); !written) {
        return {.status = 503, .message = written.error().message};
      }
      decision.reason = fmt::format("queued for {}", connection.app);
      if (auto started = start_connection_worker(layout, connection.app); !started) {
        // The daemon's tending starts one within seconds.
        decision.reason += " (" + started.error().message + ")";
      }
    }
    ConnectionState state = load_connection_state(layout, connection.app);
    state.delivery_at = std::chrono::system_clock::now();
    state.delivery = delivery;
    state.event = event->name;
    state.outcome = decision.reason;
    [[maybe_unused]] auto saved = save_connection_state(layout, connection.app, state);
    record_connection(layout, config, connection.app, actor, decision.job ? "received" : "ignored",
                      {{"delivery", delivery},
                       {"event", event->name},
                       {"reason", decision.reason},
                       {"message", fmt::format("{} delivery {}: {}", to_string(connection.host),
                                               event->name, decision.reason)}});
    queued = queued || decision.job.has_value();
    all_ok = all_ok && decision.status == 200;
    said.push_back(decision.reason);
  }
  return {.status = !queued && all_ok ? 200 : 202,
          .message = fmt::format("{}", fmt::join(said, "; "))};
}

Expected<void> start_connection_worker(const Layout& layout, const std::string& app) {
  return spawn_detached({self_executable().string(), "--root", layout.root().string(),
                         "connections:work", "-a", app});
}

std::vector<std::string> tend_connections(const Layout& layout, TimePoint now) {
  std::vector<std::string> started;
  std::vector<std::string> warnings;
  for (const auto& connection : all_connections(layout, warnings)) {
    const std::string& app = connection.app;
    auto jobs = queued_connection_jobs(layout, app);
    if (connection.poll.count() > 0) {
      ConnectionState state = load_connection_state(layout, app);
      bool polling = std::ranges::any_of(
          jobs, [](const QueuedJob& queued) { return queued.job && queued.job->kind == "poll"; });
      if (!polling && now - state.polled_at >= connection.poll) {
        state.polled_at = now;
        ConnectionJob poll{
            .id = fmt::format(
                "poll-{}",
                std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()),
            .kind = "poll",
            .received_at = now,
            .branch = connection.branch};
        if (save_connection_state(layout, app, state) && queue_connection_job(layout, app, poll)) {
          jobs = queued_connection_jobs(layout, app);
        }
      }
    }
    if (jobs.empty()) {
      continue;
    }
    // No worker holds the lock: none is running, or the last was killed.
    if (auto lock = try_lock_connection_worker(layout, app)) {
      lock.reset();
      if (start_connection_worker(layout, app)) {
        started.push_back(app);
      }
    }
  }
  return started;
}

} // namespace slipway::ops
