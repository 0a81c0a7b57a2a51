// config, config:get, config:set, config:unset
#include <cstdio>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "ops/config.hpp"

namespace slipway::cli {

namespace {

struct ConfigArgs {
  std::string app;
  std::vector<std::string> items;
  bool json = false;
  bool no_wait = false;
};

Expected<void> show(const Globals& globals, const ConfigArgs& args) {
  auto config = TRY(ops::config_vars(TRY(globals.context()), args.app));
  if (args.json) {
    std::puts(nlohmann::json(config).dump(2).c_str());
    return {};
  }
  if (config.empty()) {
    print_line(fmt::format("{} has no config vars", args.app)); // stderr: eval sees nothing
    return {};
  }
  // NAME='value' lines: `eval "$(slipway config -a APP)"` sets them in a shell.
  for (const auto& [name, value] : config) {
    std::printf("%s=%s\n", name.c_str(), shell_quote(value).c_str());
  }
  return {};
}

Expected<void> get(const Globals& globals, const ConfigArgs& args) {
  auto value =
      TRY(ops::config_var(TRY(globals.context()), {.app = args.app, .name = args.items.front()}));
  std::printf("%s\n", value.c_str());
  return {};
}

// The value of `config:set NAME -`: all of stdin, without one final newline.
Expected<std::string> value_from_stdin(const std::string& name) {
  constexpr std::size_t limit = 32 * 1024; // Heroku's cap on all of an app's config vars
  std::string value;
  char buffer[4096];
  while (std::size_t got = std::fread(buffer, 1, sizeof buffer, stdin)) {
    value.append(buffer, got);
    if (value.size() > limit) {
      return usage_error("the value of {} on stdin is longer than {} bytes", name, limit);
    }
  }
  if (value.ends_with('\n')) {
    value.pop_back();
    if (value.ends_with('\r')) {
      value.pop_back();
    }
  }
  return value;
}

Expected<void> set(const Globals& globals, const ConfigArgs& args) {
  ops::ChangeConfig change{.app = args.app};
  bool read_stdin = false;
  for (std::size_t i = 0; i < args.items.size(); ++i) {
    const std::string& item = args.items[i];
    auto equals = item.find('=');
    if (equals == std::string::npos && i + 1 < args.items.size() && args.items[i + 1] == "-") {
      if (read_stdin) {
        return usage_error("only one value can come from stdin");
      }
      read_stdin = true;
      change.set[item] = TRY(value_from_stdin(item));
      ++i;
      continue;
    }
    if (equals == std::string::npos) {
      return usage_error("'{}' is not NAME=VALUE (or NAME - to read the value from stdin)", item);
    }
    change.set[item.substr(0, equals)] = item.substr(equals + 1);
  }
  TRY(ops::change_config(TRY(globals.context(!args.no_wait)), change));
  return {};
}

Expected<void> unset(const Globals& globals, const ConfigArgs& args) {
  TRY(ops::change_config(TRY(globals.context(!args.no_wait)),
                         {.app = args.app, .unset = args.items}));
  return {};
}

} // namespace

void add_config_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<ConfigArgs>();

  auto* config = app.add_subcommand("config", "show an app's config vars");
  add_app_option(config, args->app);
  config->add_flag("--json", args->json, "print JSON");
  config->callback(choose(globals, action, args, show));

  auto* get_cmd = add_command(app, "config:get", "print one config var's value");
  add_app_option(get_cmd, args->app);
  get_cmd->add_option("NAME", args->items, "the var")->required()->expected(1);
  get_cmd->callback(choose(globals, action, args, get));

  auto* set_cmd = add_command(app, "config:set", "set config vars; makes a new release");
  add_app_option(set_cmd, args->app);
  set_cmd->add_option("NAME=VALUE", args->items, "vars to set; NAME - reads its value from stdin")
      ->required();
  set_cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  set_cmd->callback(choose(globals, action, args, set));

  auto* unset_cmd = add_command(app, "config:unset", "unset config vars; makes a new release");
  add_app_option(unset_cmd, args->app);
  unset_cmd->add_option("NAME", args->items, "vars to unset")->required();
  unset_cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  unset_cmd->callback(choose(globals, action, args, unset));
}

} // namespace slipway::cli
