// apps, apps:create NAME, apps:info -a APP, apps:destroy NAME --confirm NAME
#include <cstdio>

#include "cli/cli.hpp"
#include "ops/apps.hpp"

namespace slipway::cli {

namespace {

struct AppsArgs {
  std::string app;
  std::string confirm;
  bool json = false;
};

Expected<void> list(const Globals& globals, const AppsArgs& args) {
  auto names = TRY(ops::list_apps(TRY(globals.context())));
  if (args.json) {
    std::puts(nlohmann::json(names).dump(2).c_str());
    return {};
  }
  for (const auto& name : names) {
    std::puts(name.c_str());
  }
  return {};
}

Expected<void> create(const Globals& globals, const AppsArgs& args) {
  TRY(ops::create_app(TRY(globals.context()), {.name = args.app}));
  std::printf("Created %s\n", args.app.c_str());
  return {};
}

Expected<void> info(const Globals& globals, const AppsArgs& args) {
  auto app = TRY(ops::app_summary(TRY(globals.context()), args.app));
  std::string live = app.live ? fmt::format("v{}", *app.live) : "(none)";
  if (args.json) {
    nlohmann::json out = {{"name", app.name},
                          {"created_at", format_time(app.created_at)},
                          {"url", app.url},
                          {"releases", app.releases},
                          {"live", app.live ? nlohmann::json(*app.live) : nullptr}};
    std::puts(out.dump(2).c_str());
    return {};
  }
  std::printf("=== %s\nCreated:  %s\nURL:      %s\nReleases: %zu\nLive:     %s\n", app.name.c_str(),
              format_time(app.created_at).c_str(), app.url.c_str(), app.releases, live.c_str());
  return {};
}

Expected<void> destroy(const Globals& globals, const AppsArgs& args) {
  TRY(ops::destroy_app(TRY(globals.context()), {.name = args.app, .confirm = args.confirm}));
  std::printf("Destroyed %s\n", args.app.c_str());
  return {};
}

} // namespace

void add_apps_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<AppsArgs>();

  auto* apps = app.add_subcommand("apps", "list the apps");
  apps->add_flag("--json", args->json, "print JSON");
  apps->callback(choose(globals, action, args, list));

  auto* create_cmd = add_command(app, "apps:create", "create an app");
  create_cmd->add_option("NAME", args->app, "the app's name")->required();
  create_cmd->callback(choose(globals, action, args, create));

  auto* show = add_command(app, "apps:info", "show an app");
  add_app_option(show, args->app);
  show->add_flag("--json", args->json, "print JSON");
  show->callback(choose(globals, action, args, info));

  auto* destroy_cmd = add_command(app, "apps:destroy", "destroy an app and everything it holds");
  destroy_cmd->add_option("NAME", args->app, "the app's name")->required();
  destroy_cmd->add_option("--confirm", args->confirm, "the app's name again")->required();
  destroy_cmd->callback(choose(globals, action, args, destroy));
}

} // namespace slipway::cli
