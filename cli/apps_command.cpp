// apps, apps:create NAME, apps:info -a APP, apps:set -a APP NAME=VALUE..., apps:rename OLD
// NEW, apps:destroy NAME|-a APP [--confirm NAME]
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include <fmt/ranges.h>

#include "cli/cli.hpp"
#include "ops/apps.hpp"
#include "runtime/apps.hpp"

namespace slipway::cli {

namespace {

struct AppsArgs {
  std::string app;
  std::string app_option; // apps:destroy -a APP, beside the NAME form
  std::string confirm;
  std::vector<std::string> names; // apps:rename's; apps:set's NAME=VALUE
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
    nlohmann::json out = {
        {"name", app.name},
        {"created_at", format_time(app.created_at)},
        {"url", app.url},
        {"releases", app.releases},
        {"live", app.live ? nlohmann::json(*app.live) : nullptr},
        {"pipeline", app.pipeline.empty() ? nlohmann::json(nullptr) : nlohmann::json(app.pipeline)},
        {"stage", app.stage.empty() ? nlohmann::json(nullptr) : nlohmann::json(app.stage)},
        {"promotion_only", app.promotion_only},
        {"deploy_branches", app.deploy_branches},
        {"scheduler", app.scheduler}};
    std::puts(out.dump(2).c_str());
    return {};
  }
  std::printf("=== %s\nCreated:  %s\nURL:      %s\nReleases: %zu\nLive:     %s\nRuns on:  %s\n",
              app.name.c_str(), format_time(app.created_at).c_str(), app.url.c_str(), app.releases,
              live.c_str(), app.scheduler.c_str());
  if (!app.pipeline.empty()) {
    std::printf("Pipeline: %s (%s)%s\n", app.pipeline.c_str(), app.stage.c_str(),
                app.promotion_only ? ", changes only by promotion" : "");
  }
  return {};
}

Expected<void> set(const Globals& globals, const AppsArgs& args) {
  ops::SetApp request{.app = args.app};
  for (const auto& pair : args.names) {
    auto equals = pair.find('=');
    if (equals == std::string::npos) {
      return usage_error("'{}' is not NAME=VALUE (apps:set -a APP promotion_only=true)", pair);
    }
    request.settings.emplace_back(pair.substr(0, equals), pair.substr(equals + 1));
  }
  auto app = TRY(ops::set_app(TRY(globals.context()), request));
  std::printf("promotion_only=%s\nci=%s\nwait_for_ci=%s\ndeploy_branches=%s\nscheduler=%s\n",
              app.promotion_only ? "true" : "false", app.ci ? "true" : "false",
              app.wait_for_ci ? "true" : "false",
              fmt::format("{}", fmt::join(app.deploy_branches, ",")).c_str(),
              app.scheduler.c_str());
  return {};
}

// `apps:destroy NAME` or `apps:destroy -a NAME`; without --confirm, a terminal is asked for
// the name and anything else is refused.
// `apps:rename OLD NEW`, or Heroku's `apps:rename NEW -a OLD`.
Expected<void> rename(const Globals& globals, const AppsArgs& args) {
  std::vector<std::string> names = args.names;
  if (!args.app_option.empty()) {
    names.insert(names.begin(), args.app_option);
  }
  if (names.size() != 2) {
    return usage_error("apps:rename takes the app and its new name: apps:rename OLD NEW (or "
                       "apps:rename NEW -a OLD)");
  }
  auto context = TRY(globals.context());
  TRY(ops::rename_app(context, {.from = names[0], .to = names[1]}));
  std::printf("Renamed %s to %s\n%s\n", names[0].c_str(), names[1].c_str(),
              app_url(context.config, names[1]).c_str());
  print_line(fmt::format("Its git remote is now …/{} (git remote set-url REMOTE "
                         "git@HOST:{})",
                         names[1], names[1]));
  return {};
}

Expected<void> destroy(const Globals& globals, const AppsArgs& args) {
  if (args.app.empty() && args.app_option.empty()) {
    return usage_error("name the app to destroy: apps:destroy APP --confirm APP");
  }
  if (!args.app.empty() && !args.app_option.empty() && args.app != args.app_option) {
    return usage_error("name the app once: apps:destroy APP or apps:destroy -a APP");
  }
  std::string name = args.app.empty() ? args.app_option : args.app;
  std::string confirm = args.confirm;
  if (confirm.empty()) {
    if (!isatty(STDIN_FILENO)) {
      return usage_error("this destroys {} with its releases, repository and logs; re-run with "
                         "--confirm {}",
                         name, name);
    }
    print_line(fmt::format(" !     This destroys {} with its releases, repository and logs.\n"
                           " !     To proceed, type {} or re-run with --confirm {}",
                           name, name, name));
    std::fputs("> ", stderr);
    std::getline(std::cin, confirm);
  }
  TRY(ops::destroy_app(TRY(globals.context()), {.name = name, .confirm = confirm}));
  std::printf("Destroyed %s\n", name.c_str());
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

  auto* set_cmd = add_command(app, "apps:set",
                              "change an app's settings: promotion_only=true|false (a "
                              "production app changes only by promotion), deploy_branch=BRANCH");
  add_app_option(set_cmd, args->app);
  set_cmd->add_option("NAME=VALUE", args->names, "the settings")->required();
  set_cmd->callback(choose(globals, action, args, set));

  auto* rename_cmd = add_command(app, "apps:rename", "rename an app with everything it holds");
  rename_cmd->add_option("OLD NEW", args->names, "the app and its new name (or NEW -a OLD)")
      ->expected(1, 2);
  rename_cmd->add_option("-a,--app", args->app_option, "the app");
  rename_cmd->callback(choose(globals, action, args, rename));

  auto* destroy_cmd = add_command(app, "apps:destroy", "destroy an app and everything it holds");
  destroy_cmd->add_option("NAME", args->app, "the app's name (or -a NAME)");
  destroy_cmd->add_option("-a,--app", args->app_option, "the app");
  destroy_cmd->add_option("--confirm", args->confirm, "the app's name again");
  destroy_cmd->callback(choose(globals, action, args, destroy));
}

} // namespace slipway::cli
