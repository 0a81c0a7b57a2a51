// hook pre-receive|post-receive, housekeep -a APP (internal entry points), and the build
// history: builds -a APP, builds:output -a APP [ID].
#include <charconv>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli/cli.hpp"
#include "hooks/receive.hpp"
#include "ops/history.hpp"

namespace slipway::cli {

namespace {

struct HookArgs {
  std::string which;
  std::string app;
  std::string id;
  bool json = false;
};

Expected<void> hook(const Globals& globals, const std::string& which) {
  auto config = globals.config();
  if (!config) {
    return std::unexpected(config.error());
  }
  std::string input(std::istreambuf_iterator<char>(std::cin), {});
  int status = which == "pre-receive" ? run_pre_receive(globals.layout(), *config, input)
                                      : run_post_receive(globals.layout(), *config, input);
  // The hook has said what failed on git's channel already.
  std::fflush(stderr);
  std::exit(status);
}

Expected<void> run_housekeeping(const Globals& globals, const std::string& app) {
  return housekeep_after_push(globals.layout(), TRY(globals.config()), app);
}

Expected<void> list(const Globals& globals, const HookArgs& args) {
  auto builds = TRY(ops::list_builds(TRY(globals.context()), args.app));
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& build : builds) {
      out.push_back({{"id", build.id},
                     {"status", build.status},
                     {"commit", build.commit},
                     {"ref", build.ref},
                     {"created_at", format_time(build.created_at)},
                     {"release", build.release ? nlohmann::json(*build.release) : nullptr},
                     {"reason", build.reason},
                     {"peak_rss_kb", build.peak_rss_kb},
                     {"compile_ms", build.compile_ms}});
    }
    std::puts(out.dump(2).c_str());
    return {};
  }
  std::printf("=== %s builds\n", args.app.c_str());
  for (const auto& build : builds) {
    std::printf("%-5d %-11s %s  %-7s  %s\n", build.id, build.status.c_str(),
                format_time(build.created_at).c_str(), build.commit.substr(0, 7).c_str(),
                build.release ? fmt::format("v{}", *build.release).c_str() : build.reason.c_str());
  }
  return {};
}

Expected<void> output(const Globals& globals, const HookArgs& args) {
  std::optional<int> id;
  if (!args.id.empty()) {
    int parsed = 0;
    auto [end, ec] = std::from_chars(args.id.data(), args.id.data() + args.id.size(), parsed);
    if (ec != std::errc() || end != args.id.data() + args.id.size() || parsed < 1) {
      return usage_error("invalid build id '{}'", args.id);
    }
    id = parsed;
  }
  print_text(TRY(ops::build_output(TRY(globals.context()), {.app = args.app, .id = id})));
  return {};
}

} // namespace

void add_hook_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<HookArgs>();

  auto* hook_cmd = app.add_subcommand("hook", "git hook entry point (internal)");
  hook_cmd->group("");
  hook_cmd->add_option("HOOK", args->which, "pre-receive or post-receive")
      ->required()
      ->check(CLI::IsMember({"pre-receive", "post-receive"}));
  hook_cmd->callback(
      [&, args] { action = [&globals, args] { return hook(globals, args->which); }; });

  auto* keep = app.add_subcommand("housekeep", "prune after a push (internal)");
  keep->group("");
  add_app_option(keep, args->app);
  keep->callback(
      [&, args] { action = [&globals, args] { return run_housekeeping(globals, args->app); }; });

  auto* builds = app.add_subcommand("builds", "list an app's builds, newest first");
  add_app_option(builds, args->app);
  builds->add_flag("--json", args->json, "print JSON");
  builds->callback(choose(globals, action, args, list));

  auto* out = add_command(app, "builds:output", "print a build's whole log (default: the newest)");
  add_app_option(out, args->app);
  out->add_option("ID", args->id, "the build's id");
  out->callback(choose(globals, action, args, output));
}

} // namespace slipway::cli
