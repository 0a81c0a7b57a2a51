// ps, ps:scale, ps:restart, run
#include <charconv>
#include <cstdio>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "ops/processes.hpp"

namespace slipway::cli {

namespace {

struct PsArgs {
  std::string app;
  std::vector<std::string> items; // TYPE=N for ps:scale, the type for ps:restart, run's argv
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

// TYPE=COUNT words; the operation checks the types and counts.
Expected<ops::Scale> scale_request(const PsArgs& args) {
  ops::Scale request{.app = args.app};
  for (const auto& item : args.items) {
    auto equals = item.find('=');
    std::string_view digits = std::string_view(item).substr(std::min(equals + 1, item.size()));
    int count = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
    if (equals == std::string::npos || digits.empty() || ec != std::errc() ||
        end != digits.data() + digits.size()) {
      return usage_error("'{}' is not TYPE=COUNT", item);
    }
    request.counts[item.substr(0, equals)] = count;
  }
  return request;
}

Expected<void> scale(const Globals& globals, const PsArgs& args) {
  auto summary = TRY(ops::scale(TRY(globals.context(!args.no_wait)), TRY(scale_request(args))));
  print_line(fmt::format("Scaling processes... done, now running {}", summary));
  return {};
}

Expected<void> restart(const Globals& globals, const PsArgs& args) {
  std::string type = args.items.empty() ? "" : args.items.front();
  int restarted =
      TRY(ops::restart(TRY(globals.context(!args.no_wait)), {.app = args.app, .type = type}));
  print_line(detail_line(fmt::format("done, {} restarted", restarted)));
  return {};
}

Expected<void> run_oneoff(const Globals& globals, const PsArgs& args) {
  int status =
      TRY(ops::run_oneoff(TRY(globals.context(false)), {.app = args.app, .command = args.items}));
  if (status != 0) {
    return std::unexpected(Error{"", status}); // the exit status speaks for itself
  }
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
  scale_cmd->add_option("TYPE=COUNT", args->items, "e.g. web=2 worker=0")->required();
  scale_cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  scale_cmd->callback(choose(globals, action, args, scale));

  auto* restart_cmd = add_command(app, "ps:restart", "restart processes (web ones rolling)");
  add_app_option(restart_cmd, args->app);
  restart_cmd->add_option("TYPE", args->items, "only this process type")->expected(0, 1);
  restart_cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  restart_cmd->callback(choose(globals, action, args, restart));

  auto* run_cmd = app.add_subcommand("run", "run a one-off command in the live release");
  add_app_option(run_cmd, args->app);
  run_cmd->add_option("COMMAND", args->items, "the command and its arguments (after --)")
      ->required();
  run_cmd->callback(choose(globals, action, args, run_oneoff));
}

} // namespace slipway::cli
