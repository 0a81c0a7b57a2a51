// apps, apps:create NAME, apps:info -a APP, apps:destroy NAME --confirm NAME
#include <cstdio>

#include "cli/cli.hpp"
#include "common/paths.hpp"
#include "hooks/repo.hpp"
#include "runtime/apps.hpp"
#include "runtime/daemon_client.hpp"
#include "runtime/release_store.hpp"
#include "runtime/releaser.hpp"

namespace slipway::cli {

namespace {

struct AppsArgs {
  std::string app;
  std::string confirm;
  bool json = false;
};

Expected<void> list(const Globals& globals, bool json) {
  if (auto root = check_root(globals.layout()); !root) {
    return root;
  }
  auto names = list_apps(globals.layout());
  if (json) {
    std::puts(nlohmann::json(names).dump(2).c_str());
    return {};
  }
  for (const auto& name : names) {
    std::puts(name.c_str());
  }
  return {};
}

Expected<void> info(const Globals& globals, const std::string& app, bool json) {
  auto config = globals.config();
  if (!config) {
    return std::unexpected(config.error());
  }
  auto layout = globals.layout();
  auto details = app_info(layout, app);
  if (!details) {
    return std::unexpected(details.error());
  }
  ReleaseStore store(layout, app);
  auto live = store.live_version();
  auto releases = store.list();
  std::string url = app_url(*config, app);
  if (json) {
    nlohmann::json out = {{"name", app},
                          {"created_at", format_time(details->created_at)},
                          {"url", url},
                          {"releases", releases.size()},
                          {"live", live ? nlohmann::json(*live) : nlohmann::json(nullptr)}};
    std::puts(out.dump(2).c_str());
    return {};
  }
  std::printf("=== %s\nCreated:  %s\nURL:      %s\nReleases: %zu\nLive:     %s\n", app.c_str(),
              format_time(details->created_at).c_str(), url.c_str(), releases.size(),
              live ? fmt::format("v{}", *live).c_str() : "(none)");
  return {};
}

} // namespace

void add_apps_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<AppsArgs>();

  auto* apps = app.add_subcommand("apps", "list the apps");
  apps->add_flag("--json", args->json, "print JSON");
  apps->callback([&, args] { action = [&globals, args] { return list(globals, args->json); }; });

  auto* create = add_command(app, "apps:create", "create an app");
  create->add_option("NAME", args->app, "the app's name")->required();
  create->callback([&, args] {
    action = [&globals, args]() -> Expected<void> {
      if (auto created = new_app(globals.layout(), args->app, local_actor()); !created) {
        return created;
      }
      std::printf("Created %s\n", args->app.c_str());
      return {};
    };
  });

  auto* show = add_command(app, "apps:info", "show an app");
  add_app_option(show, args->app);
  show->add_flag("--json", args->json, "print JSON");
  show->callback(
      [&, args] { action = [&globals, args] { return info(globals, args->app, args->json); }; });

  auto* destroy = add_command(app, "apps:destroy", "destroy an app and everything it holds");
  destroy->add_option("NAME", args->app, "the app's name")->required();
  destroy->add_option("--confirm", args->confirm, "the app's name again")->required();
  destroy->callback([&, args] {
    action = [&globals, args]() -> Expected<void> {
      if (args->confirm != args->app) {
        return usage_error("--confirm '{}' does not match the app name '{}'", args->confirm,
                           args->app);
      }
      auto config = globals.config();
      if (!config) {
        return std::unexpected(config.error());
      }
      if (auto destroyed = delete_app(globals.layout(), *config, args->app, local_actor());
          !destroyed) {
        return destroyed;
      }
      // A running daemon stops the app's processes and drops its route.
      TRY(sync_daemon(globals.layout(), args->app));
      std::printf("Destroyed %s\n", args->app.c_str());
      return {};
    };
  });
}

} // namespace slipway::cli
