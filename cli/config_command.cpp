// config, config:get, config:set, config:unset
#include <cstdio>

#include "cli/cli.hpp"
#include "compiler/release_yaml.hpp"
#include "runtime/apps.hpp"
#include "runtime/release_store.hpp"
#include "runtime/releaser.hpp"

namespace slipway::cli {

namespace {

struct ConfigArgs {
  std::string app;
  std::vector<std::string> items;
  bool json = false;
  bool no_wait = false;
};

Expected<ConfigVars> live_config(const Layout& layout, const std::string& app) {
  if (auto exists = require_app(layout, app); !exists) {
    return std::unexpected(exists.error());
  }
  auto live = ReleaseStore(layout, app).live();
  if (!live) {
    return std::unexpected(live.error());
  }
  return *live ? (*live)->config : ConfigVars{};
}

Expected<void> show(const Globals& globals, const ConfigArgs& args) {
  auto config = live_config(globals.layout(), args.app);
  if (!config) {
    return std::unexpected(config.error());
  }
  if (args.json) {
    std::puts(nlohmann::json(*config).dump(2).c_str());
    return {};
  }
  // NAME='value' lines: `eval "$(slipway config -a APP)"` sets them in a shell.
  for (const auto& [name, value] : *config) {
    std::printf("%s=%s\n", name.c_str(), shell_quote(value).c_str());
  }
  return {};
}

Expected<void> get(const Globals& globals, const ConfigArgs& args) {
  auto config = live_config(globals.layout(), args.app);
  if (!config) {
    return std::unexpected(config.error());
  }
  auto it = config->find(args.items.front());
  if (it == config->end()) {
    return fail("config var '{}' is not set", args.items.front());
  }
  std::printf("%s\n", it->second.c_str());
  return {};
}

Expected<void> change(const Globals& globals, const ConfigArgs& args, bool setting) {
  auto operation = open_app(globals, args.app, args.no_wait);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  ConfigVars set;
  std::vector<std::string> unset;
  for (const auto& item : args.items) {
    if (!setting) {
      unset.push_back(item);
      continue;
    }
    auto equals = item.find('=');
    if (equals == std::string::npos) {
      return usage_error("'{}' is not NAME=VALUE", item);
    }
    set[item.substr(0, equals)] = item.substr(equals + 1);
  }
  auto release = change_config(operation->context(), set, unset);
  if (!release) {
    return std::unexpected(release.error());
  }
  return {};
}

} // namespace

void add_config_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<ConfigArgs>();

  auto* config = app.add_subcommand("config", "show an app's config vars");
  add_app_option(config, args->app);
  config->add_flag("--json", args->json, "print JSON");
  config->callback([&, args] { action = [&globals, args] { return show(globals, *args); }; });

  auto* get_cmd = add_command(app, "config:get", "print one config var's value");
  add_app_option(get_cmd, args->app);
  get_cmd->add_option("NAME", args->items, "the var")->required()->expected(1);
  get_cmd->callback([&, args] { action = [&globals, args] { return get(globals, *args); }; });

  auto* set = add_command(app, "config:set", "set config vars; makes a new release");
  add_app_option(set, args->app);
  set->add_option("NAME=VALUE", args->items, "vars to set")->required();
  set->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  set->callback([&, args] { action = [&globals, args] { return change(globals, *args, true); }; });

  auto* unset = add_command(app, "config:unset", "unset config vars; makes a new release");
  add_app_option(unset, args->app);
  unset->add_option("NAME", args->items, "vars to unset")->required();
  unset->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  unset->callback(
      [&, args] { action = [&globals, args] { return change(globals, *args, false); }; });
}

} // namespace slipway::cli
