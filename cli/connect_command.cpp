// apps:connect -a APP URL [--branch B] [--host H] [--credential NAME] [--api-url URL]
// [--allow-forks] [--poll 60s], apps:disconnect -a APP, apps:connection -a APP [--json], and
// the hidden connections:work -a APP (the worker a delivery or the daemon starts).
#include <cstdio>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "ops/connections.hpp"
#include "runtime/app_log.hpp"

namespace slipway::cli {

namespace {

struct ConnectArgs {
  std::string app;
  std::string url;
  std::string branch;
  std::string host;
  std::string credential;
  std::string api_url;
  std::string poll;
  bool allow_forks = false;
  bool json = false;
};

nlohmann::json connection_json(const ops::ConnectionInfo& info) {
  const Connection& connection = info.connection;
  nlohmann::json out{{"app", connection.app},
                     {"id", connection.id},
                     {"host", to_string(connection.host)},
                     {"url", connection.repo.url},
                     {"repository", connection.repo.path},
                     {"branch", connection.branch},
                     {"credential", connection.credential},
                     {"api_url", connection.api_url},
                     {"allow_forks", connection.allow_forks},
                     {"poll_seconds", connection.poll.count()},
                     {"owner", connection.owner},
                     {"webhook_url", info.webhook_url},
                     {"created_at", format_time(connection.created_at)},
                     {"queued", info.queued},
                     {"last_delivery",
                      {{"id", info.state.delivery},
                       {"event", info.state.event},
                       {"outcome", info.state.outcome}}}};
  if (!connection.secret.empty()) {
    out["secret"] = connection.secret;
  }
  return out;
}

void print_connection(const ops::ConnectionInfo& info) {
  const Connection& connection = info.connection;
  std::printf("Repository:   %s (%s)\n", connection.repo.url.c_str(),
              std::string(to_string(connection.host)).c_str());
  std::printf("Branch:       %s\n", connection.branch.c_str());
  std::printf("Credential:   %s\n", connection.credential.empty()
                                        ? "(none: statuses are not posted)"
                                        : connection.credential.c_str());
  std::printf("Deploys as:   %s\n",
              connection.owner.empty() ? "the server's local user" : connection.owner.c_str());
  std::printf("Webhook URL:  %s\n", info.webhook_url.c_str());
  std::printf("Content type: application/json\n");
  if (!connection.secret.empty()) {
    std::printf("Secret:       %s  (shown once: paste it into the host's webhook now)\n",
                connection.secret.c_str());
  }
  std::printf("Events:       push, pull requests%s\n",
              connection.allow_forks ? " (forks included)" : "");
  if (connection.poll.count() > 0) {
    std::printf(
        "Polls:        every %s\n",
        format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(connection.poll))
            .c_str());
  }
  if (!info.state.delivery.empty()) {
    std::printf("Last delivery: %s (%s): %s\n", info.state.delivery.c_str(),
                info.state.event.c_str(), info.state.outcome.c_str());
  }
  if (info.queued > 0) {
    std::printf("Queued:       %zu\n", info.queued);
  }
}

Expected<void> connect(const Globals& globals, const ConnectArgs& args) {
  ops::ConnectApp request{.app = args.app,
                          .url = args.url,
                          .branch = args.branch,
                          .credential = args.credential,
                          .api_url = args.api_url,
                          .allow_forks = args.allow_forks};
  if (!args.host.empty()) {
    request.host = TRY(parse_git_host(args.host));
  }
  if (!args.poll.empty()) {
    request.poll = std::chrono::duration_cast<std::chrono::seconds>(TRY(parse_duration(args.poll)));
  }
  auto info = TRY(ops::connect_app(TRY(globals.context()), request));
  if (args.json) {
    std::puts(connection_json(info).dump(2).c_str());
    return {};
  }
  print_line(step_line(fmt::format("Connected {} to {}", args.app, info.connection.repo.url)));
  print_connection(info);
  return {};
}

Expected<void> disconnect(const Globals& globals, const ConnectArgs& args) {
  TRY(ops::disconnect_app(TRY(globals.context()), args.app));
  print_line(fmt::format("Disconnected {}", args.app));
  return {};
}

Expected<void> show(const Globals& globals, const ConnectArgs& args) {
  auto info = TRY(ops::app_connection(TRY(globals.context()), args.app));
  if (args.json) {
    std::puts(connection_json(info).dump(2).c_str());
  } else {
    print_connection(info);
  }
  return {};
}

// Detached, with no terminal: its lines go to the app's log.
Expected<void> work(const Globals& globals, const ConnectArgs& args) {
  auto layout = globals.layout();
  auto config = TRY(globals.config());
  AppLog log(layout.log_dir(args.app), config.runtime.log_size);
  return ops::work_connection_jobs(layout, config, args.app, [&](std::string_view line) {
    log.append("slipway[git-host]", line);
  });
}

} // namespace

void add_connect_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<ConnectArgs>();

  auto* connect_cmd = add_command(
      app, "apps:connect", "deploy an app from a branch of a git host's repository (an admin's)");
  add_app_option(connect_cmd, args->app);
  connect_cmd->add_option("URL", args->url, "the repository (https://, ssh:// or git@HOST:PATH)")
      ->required();
  connect_cmd->add_option("--branch", args->branch, "the branch that deploys (the app's own)");
  connect_cmd->add_option("--host", args->host, "github, gitlab, gitea or forgejo");
  connect_cmd->add_option("--credential", args->credential,
                          "fetch and post statuses with this credential");
  connect_cmd->add_option("--api-url", args->api_url, "the host's API, for statuses");
  connect_cmd->add_flag("--allow-forks", args->allow_forks,
                        "pull requests from forks get review apps too");
  connect_cmd->add_option("--poll", args->poll,
                          "also fetch the branch this often (\"60s\"), for a host that cannot "
                          "reach this server");
  connect_cmd->add_flag("--json", args->json, "print JSON (with the secret)");
  connect_cmd->callback(choose(globals, action, args, connect));

  auto* disconnect_cmd = add_command(app, "apps:disconnect", "stop deploying from a git host");
  add_app_option(disconnect_cmd, args->app);
  disconnect_cmd->callback(choose(globals, action, args, disconnect));

  auto* show_cmd = add_command(app, "apps:connection", "show an app's git-host connection");
  add_app_option(show_cmd, args->app);
  show_cmd->add_flag("--json", args->json, "print JSON");
  show_cmd->callback(choose(globals, action, args, show));

  auto* work_cmd = add_command(app, "connections:work", "do an app's git-host deliveries");
  add_app_option(work_cmd, args->app);
  work_cmd->group("");
  work_cmd->callback(choose(globals, action, args, work));
}

} // namespace slipway::cli
