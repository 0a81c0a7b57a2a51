// config, config:get, config:set, config:unset; each of config, config:set and config:unset
// also of a pipeline's review config (-p PIPELINE --stage review)
#include <cstdio>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "ops/config.hpp"
#include "ops/review_apps.hpp"

namespace slipway::cli {

namespace {

struct ConfigArgs {
  std::string app;
  std::string pipeline; // -p: a pipeline's review config
  std::string stage;
  std::vector<std::string> items;
  bool json = false;
  bool no_wait = false;
};

// Exactly one of -a APP and -p PIPELINE --stage review; true for the pipeline's.
Expected<bool> of_pipeline(const ConfigArgs& args) {
  if (args.app.empty() == args.pipeline.empty()) {
    return usage_error("name an app (-a APP) or a pipeline's review config (-p PIPELINE "
                       "--stage review)");
  }
  if (!args.pipeline.empty() && args.stage != "review") {
    return usage_error("a pipeline's config is its review apps': -p {} --stage review",
                       printable(args.pipeline));
  }
  if (args.pipeline.empty() && !args.stage.empty()) {
    return usage_error("--stage goes with -p PIPELINE");
  }
  return !args.pipeline.empty();
}

Expected<void> show(const Globals& globals, const ConfigArgs& args) {
  auto config = TRY(of_pipeline(args))
                    ? TRY(ops::review_config(TRY(globals.context()), args.pipeline))
                    : TRY(ops::config_vars(TRY(globals.context()), args.app));
  const std::string& owner = args.app.empty() ? args.pipeline + "'s review config" : args.app;
  if (args.json) {
    std::puts(nlohmann::json(config).dump(2).c_str());
    return {};
  }
  if (config.empty()) {
    print_line(fmt::format("{} has no config vars", owner)); // stderr: eval sees nothing
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
  if (TRY(of_pipeline(args))) {
    auto config = TRY(ops::change_review_config(
        TRY(globals.context()), {.pipeline = args.pipeline, .set = std::move(change.set)}));
    std::printf("%s's review config: %zu vars (review apps made from now on start with them)\n",
                args.pipeline.c_str(), config.size());
    return {};
  }
  TRY(ops::change_config(TRY(globals.context(!args.no_wait)), change));
  return {};
}

Expected<void> unset(const Globals& globals, const ConfigArgs& args) {
  if (TRY(of_pipeline(args))) {
    auto config = TRY(ops::change_review_config(TRY(globals.context()),
                                                {.pipeline = args.pipeline, .unset = args.items}));
    std::printf("%s's review config: %zu vars\n", args.pipeline.c_str(), config.size());
    return {};
  }
  TRY(ops::change_config(TRY(globals.context(!args.no_wait)),
                         {.app = args.app, .unset = args.items}));
  return {};
}

// -a APP, or -p PIPELINE --stage review.
void add_owner_options(CLI::App* command, ConfigArgs& args) {
  command->add_option("-a,--app", args.app, "the app");
  command->add_option("-p,--pipeline", args.pipeline, "a pipeline (with --stage review)");
  command->add_option("--stage", args.stage, "review: the pipeline's review apps' config");
}

} // namespace

void add_config_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<ConfigArgs>();

  auto* config = app.add_subcommand("config", "show an app's config vars");
  add_owner_options(config, *args);
  config->add_flag("--json", args->json, "print JSON");
  config->callback(choose(globals, action, args, show));

  auto* get_cmd = add_command(app, "config:get", "print one config var's value");
  add_app_option(get_cmd, args->app);
  get_cmd->add_option("NAME", args->items, "the var")->required()->expected(1);
  get_cmd->callback(choose(globals, action, args, get));

  auto* set_cmd = add_command(app, "config:set", "set config vars; makes a new release");
  add_owner_options(set_cmd, *args);
  set_cmd->add_option("NAME=VALUE", args->items, "vars to set; NAME - reads its value from stdin")
      ->required();
  set_cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  set_cmd->callback(choose(globals, action, args, set));

  auto* unset_cmd = add_command(app, "config:unset", "unset config vars; makes a new release");
  add_owner_options(unset_cmd, *args);
  unset_cmd->add_option("NAME", args->items, "vars to unset")->required();
  unset_cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  unset_cmd->callback(choose(globals, action, args, unset));
}

} // namespace slipway::cli
