// ps, ps:scale, ps:type, ps:restart, ps:stop, run, run:detached
#include <cstdio>
#include <ranges>

#include <fmt/ranges.h>

#include "cli/cli.hpp"
#include "common/config.hpp"
#include "common/output.hpp"
#include "ops/processes.hpp"

namespace slipway::cli {

namespace {

struct PsArgs {
  std::string app;
  std::vector<std::string> items; // TYPE=N for ps:scale, the type for ps:restart, run's argv
  std::vector<std::string> env;   // run -e NAME=VALUE (or "A=1;B=2", as Heroku's)
  std::string detached_as;        // run's own, for run:detached's background process
  bool json = false;
  bool no_wait = false;
};

std::string uptime_text(long seconds) {
  if (seconds < 60) {
    return fmt::format("{}s", seconds);
  }
  if (seconds < 3600) {
    return fmt::format("{}m {}s", seconds / 60, seconds % 60);
  }
  if (seconds < 86400) {
    return fmt::format("{}h {}m", seconds / 3600, seconds / 60 % 60);
  }
  return fmt::format("{}d {}h", seconds / 86400, seconds / 3600 % 24);
}

Expected<void> list(const Globals& globals, const PsArgs& args) {
  auto processes = TRY(ops::list_processes(TRY(globals.context()), args.app));
  if (args.json) {
    std::puts(control::to_json(processes).dump(2).c_str());
    return {};
  }
  if (processes.empty()) {
    std::printf("%s has no processes running\n", args.app.c_str());
    return {};
  }
  std::printf("%-12s %-9s %-8s %-9s %-8s %-6s %s\n", "PROCESS", "STATE", "RELEASE", "UPTIME", "PID",
              "PORT", "COMMAND");
  auto number = [](const std::optional<int>& value) {
    return value ? std::to_string(*value) : std::string("-");
  };
  for (const auto& process : processes) {
    std::printf("%-12s %-9s %-8s %-9s %-8s %-6s %s\n", process.name.c_str(), process.state.c_str(),
                fmt::format("v{}", process.release).c_str(),
                process.uptime_seconds ? uptime_text(*process.uptime_seconds).c_str() : "-",
                number(process.pid).c_str(), number(process.port).c_str(), process.command.c_str());
  }
  return {};
}

// With no argument, the formation: "web=1 worker=0", as Heroku's prints it.
Expected<void> scale(const Globals& globals, const PsArgs& args) {
  auto context = TRY(globals.context(!args.no_wait));
  if (args.items.empty()) {
    auto entries = TRY(ops::formation(context, args.app));
    if (entries.empty()) {
      print_line(fmt::format("{} has no process types (nothing was deployed yet)", args.app));
      return {};
    }
    std::string line;
    for (const auto& entry : entries) {
      line += fmt::format("{}{}={}", line.empty() ? "" : " ", entry.type, entry.count);
    }
    std::puts(line.c_str());
    return {};
  }
  ops::Scale request{.app = args.app};
  for (const auto& item : args.items) {
    request.changes.push_back(TRY(ops::parse_scale_change(item)));
  }
  auto summary = TRY(ops::scale(context, request));
  print_line(fmt::format("Scaling processes... done, now running {}", summary));
  return {};
}

// The one size there is; asking for another says why not.
Expected<void> type(const Globals& globals, const PsArgs& args) {
  auto context = TRY(globals.context());
  auto size = TRY(ops::process_size(context, args.app));
  std::string described = fmt::format("{} memory, {} processes, {} disk", format_size(size.memory),
                                      size.processes, format_size(size.disk));
  if (!args.items.empty()) {
    return usage_error("slipway runs every process at one size ({}, set by [runtime] in "
                       "slipway.toml); '{}' cannot change it",
                       described, printable(args.items.front()));
  }
  auto entries = TRY(ops::formation(context, args.app));
  std::printf("=== %s: every process has %s\n", args.app.c_str(), described.c_str());
  for (const auto& entry : entries) {
    std::printf("%-12s %3d  %s\n", entry.type.c_str(), entry.count, entry.command.c_str());
  }
  return {};
}

Expected<void> restart(const Globals& globals, const PsArgs& args) {
  std::string target = args.items.empty() ? "" : args.items.front();
  int restarted =
      TRY(ops::restart(TRY(globals.context(!args.no_wait)), {.app = args.app, .target = target}));
  print_line(detail_line(fmt::format("done, {} restarted", restarted)));
  return {};
}

Expected<void> stop(const Globals& globals, const PsArgs& args) {
  int stopped = TRY(ops::restart(TRY(globals.context(!args.no_wait)),
                                 {.app = args.app, .target = args.items.front(), .stop = true}));
  if (args.items.front().starts_with("run.")) {
    print_line(detail_line("done, stopped")); // a one-off is not started again
    return {};
  }
  print_line(detail_line(fmt::format("done, {} stopped; the formation starts {} again", stopped,
                                     stopped == 1 ? "it" : "them")));
  return {};
}

Expected<ops::RunOneOff> oneoff_request(const PsArgs& args) {
  ops::RunOneOff request{.app = args.app, .command = args.items, .dyno = args.detached_as};
  request.to_log = !args.detached_as.empty();
  for (const auto& item : args.env) {
    for (auto part : std::views::split(std::string_view(item), ';')) {
      std::string_view pair(part.begin(), part.end());
      auto equals = pair.find('=');
      if (equals == std::string_view::npos) {
        return usage_error("-e '{}' is not NAME=VALUE", printable(pair));
      }
      request.env.emplace_back(pair.substr(0, equals), pair.substr(equals + 1));
    }
  }
  return request;
}

Expected<void> run_oneoff(const Globals& globals, const PsArgs& args) {
  int status = TRY(ops::run_oneoff(TRY(globals.context(false)), TRY(oneoff_request(args))));
  if (status != 0) {
    return std::unexpected(Error{"", status}); // the exit status speaks for itself
  }
  return {};
}

Expected<void> run_detached(const Globals& globals, const PsArgs& args) {
  auto dyno = TRY(ops::run_detached(TRY(globals.context(false)), TRY(oneoff_request(args))));
  print_line(
      fmt::format("Running `{}` on {}... up, {}", fmt::join(args.items, " "), args.app, dyno));
  print_line(detail_line(
      fmt::format("its output goes to the app log: slipway logs -a {} --ps {}", args.app, dyno)));
  return {};
}

} // namespace

void add_ps_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<PsArgs>();

  auto* ps = app.add_subcommand("ps", "list an app's processes (from the daemon)");
  add_app_option(ps, args->app);
  ps->add_flag("--json", args->json, "print JSON");
  ps->callback(choose(globals, action, args, list));

  auto* scale_cmd = add_command(app, "ps:scale", "set how many processes of each type run");
  add_app_option(scale_cmd, args->app);
  scale_cmd->add_option("TYPE=COUNT", args->items,
                        "e.g. web=2 worker=0, web+1, worker-1; none: print the formation");
  scale_cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  scale_cmd->callback(choose(globals, action, args, scale));

  auto* type_cmd = add_command(app, "ps:type", "show the size processes run at (there is one)");
  add_app_option(type_cmd, args->app);
  type_cmd->add_option("TYPE=SIZE", args->items, "refused: there is one size");
  type_cmd->callback(choose(globals, action, args, type));

  auto* restart_cmd = add_command(app, "ps:restart", "restart processes (web ones rolling)");
  add_app_option(restart_cmd, args->app);
  restart_cmd->add_option("TYPE", args->items, "only this process type, or one process (web.1)")
      ->expected(0, 1);
  restart_cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  restart_cmd->callback(choose(globals, action, args, restart));

  auto* stop_cmd = add_command(app, "ps:stop", "stop processes; the formation starts them again");
  add_app_option(stop_cmd, args->app);
  stop_cmd
      ->add_option("TYPE", args->items, "a process type, one process (web.1), or a one-off (run.N)")
      ->required()
      ->expected(1);
  stop_cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  stop_cmd->callback(choose(globals, action, args, stop));

  // Options come before the command: what follows its first word is the command's own
  // (`run -a APP ruby -e 'puts 1'`), as with `--`.
  for (bool detached : {false, true}) {
    auto* run_cmd = detached ? add_command(app, "run:detached",
                                           "run a one-off command in the background; its "
                                           "output goes to the app log")
                             : app.add_subcommand("run", "run a one-off command in the live "
                                                         "release (a process type runs its "
                                                         "Procfile command)");
    add_app_option(run_cmd, args->app);
    run_cmd->add_option("-e,--env", args->env, "NAME=VALUE for this process (repeat, or A=1;B=2)");
    if (!detached) {
      run_cmd->add_option("--detached-as", args->detached_as)->group(""); // run:detached's own
    }
    run_cmd->add_option("COMMAND", args->items, "the command and its arguments")->required();
    run_cmd->prefix_command();
    run_cmd->callback(choose(globals, action, args, detached ? run_detached : run_oneoff));
  }
}

} // namespace slipway::cli
