// ps, ps:scale, ps:restart, run
#include <charconv>
#include <cstdio>
#include <signal.h>
#include <unistd.h>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "common/tree.hpp"
#include "compiler/procfile.hpp"
#include "compiler/release_yaml.hpp"
#include "runtime/app_log.hpp"
#include "runtime/daemon_client.hpp"
#include "runtime/deploy_lock.hpp"
#include "runtime/dyno.hpp"
#include "runtime/launch.hpp"
#include "runtime/release_store.hpp"

namespace slipway::cli {

namespace {

namespace fs = std::filesystem;

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
  auto layout = globals.layout();
  if (auto exists = require_app(layout, args.app); !exists) {
    return exists;
  }
  auto processes = TRY(daemon_processes(layout, args.app));
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

Expected<void> scale(const Globals& globals, const PsArgs& args) {
  std::map<std::string, int> counts;
  for (const auto& item : args.items) {
    auto equals = item.find('=');
    std::string type = item.substr(0, equals);
    int count = -1;
    if (equals != std::string::npos) {
      std::string_view digits = std::string_view(item).substr(equals + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
      if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
        count = -1;
      }
    }
    if (equals == std::string::npos || !is_process_type_name(type) || count < 0 ||
        count > k_max_scale) {
      return usage_error("'{}' is not TYPE=COUNT (a count from 0 to {})", item, k_max_scale);
    }
    counts[type] = count;
  }
  auto operation = open_app(globals, args.app, args.no_wait);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  auto live = ReleaseStore(operation->layout, args.app).live();
  if (!live) {
    return std::unexpected(live.error());
  }
  for (const auto& [type, count] : counts) {
    bool known = *live && std::ranges::any_of((*live)->process_types, [&](const auto& entry) {
      return entry.first == type;
    });
    if (!known) {
      return fail("{} has no process type '{}'{}", args.app, type,
                  *live ? "" : " (nothing was deployed yet)");
    }
  }
  std::string summary;
  auto changed = change_app_settings(*operation, [&](AppInfo& info) -> Expected<Event> {
    nlohmann::json formation = nlohmann::json::object();
    for (const auto& [type, count] : counts) {
      info.formation[type] = count;
      formation[type] = count;
      summary += fmt::format("{}{}@{}", summary.empty() ? "" : ", ", type, count);
    }
    return Event{.resource = "formation",
                 .action = "changed",
                 .data = {{"formation", formation}, {"message", "Scaled to " + summary}}};
  });
  if (!changed) {
    return changed;
  }
  print_line(fmt::format("Scaling processes... done, now running {}", summary));
  return {};
}

Expected<void> restart(const Globals& globals, const PsArgs& args) {
  auto operation = open_app(globals, args.app, args.no_wait);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  std::string type = args.items.empty() ? "" : args.items.front();
  if (!type.empty() && !is_process_type_name(type)) {
    return usage_error("invalid process type '{}'", type);
  }
  auto lock = lock_app(operation->layout, args.app, operation->wait, print_line);
  if (!lock) {
    return std::unexpected(lock.error());
  }
  print_line(step_line(
      fmt::format("Restarting {} processes of {}", type.empty() ? "all" : type, args.app)));
  int restarted = TRY(restart_processes(operation->layout, args.app, type, print_line));
  print_line(detail_line(fmt::format("done, {} restarted", restarted)));
  return {};
}

// A one-off process in the live release's environment, on this terminal. Its files are a
// throwaway copy, as a dyno's are.
Expected<void> run_oneoff(const Globals& globals, const PsArgs& args) {
  auto operation = open_app(globals, args.app, true);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  auto live = ReleaseStore(operation->layout, args.app).live();
  if (!live) {
    return std::unexpected(live.error());
  }
  if (!*live) {
    return fail("{} has no live release to run a command in", args.app);
  }
  const Release& release = **live;
  auto unpacked = ensure_unpacked(operation->layout, args.app, release);
  if (!unpacked) {
    return std::unexpected(unpacked.error());
  }
  std::string dyno = fmt::format("run.{}", getpid());
  fs::path dir = operation->layout.oneoff_dir() / fmt::format("{}-{}", args.app, dyno);
  auto sandbox = process_sandbox(operation->layout, operation->config, args.app, dyno);
  if (!sandbox) {
    return std::unexpected(sandbox.error());
  }
  if (auto copied = make_process_copy(*unpacked, dir, sandbox->identity); !copied) {
    return copied;
  }
  // One word is a command line for the shell (`run -a APP -- 'rake db:migrate && ls'`);
  // several are an argv, each quoted.
  std::string command = args.items.size() == 1 ? args.items.front() : "";
  for (std::size_t i = 0; args.items.size() > 1 && i < args.items.size(); ++i) {
    command += (i == 0 ? "" : " ") + shell_quote(args.items[i]);
  }
  AppLog log(operation->layout.log_dir(args.app), operation->config.runtime.log_size);
  log.append("slipway[api]", fmt::format("Starting process with command `{}` ({})", command, dyno));
  auto cleanup = [&] {
    [[maybe_unused]] auto removed = remove_tree(dir);
    if (sandbox->cgroups) {
      sandbox->cgroups->remove();
    }
  };
  auto prepared = process_command(
      {.release = release, .dyno = dyno, .command = command, .app_dir = dir, .sandbox = *sandbox});
  if (!prepared) {
    cleanup();
    return std::unexpected(prepared.error());
  }
  auto process = spawn(*prepared, {.capture_output = false, .new_process_group = false});
  if (!process) {
    cleanup();
    return std::unexpected(process.error());
  }
  // Like system(3): a ^C at the terminal is for the command; we wait for it.
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  ExitStatus status = wait_spawned(*process);
  cleanup();
  log.append(fmt::format("slipway[{}]", dyno), fmt::format("Process {}", status.describe()));
  if (status.code != 0) {
    return std::unexpected(Error{"", status.code});
  }
  return {};
}

} // namespace

void add_ps_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<PsArgs>();

  auto* ps = app.add_subcommand("ps", "list an app's processes (from the daemon)");
  add_app_option(ps, args->app);
  ps->add_flag("--json", args->json, "print JSON");
  ps->callback([&, args] { action = [&globals, args] { return list(globals, *args); }; });

  auto* scale_cmd = add_command(app, "ps:scale", "set how many processes of each type run");
  add_app_option(scale_cmd, args->app);
  scale_cmd->add_option("TYPE=COUNT", args->items, "e.g. web=2 worker=0")->required();
  scale_cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  scale_cmd->callback([&, args] { action = [&globals, args] { return scale(globals, *args); }; });

  auto* restart_cmd = add_command(app, "ps:restart", "restart processes (web ones rolling)");
  add_app_option(restart_cmd, args->app);
  restart_cmd->add_option("TYPE", args->items, "only this process type")->expected(0, 1);
  restart_cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  restart_cmd->callback(
      [&, args] { action = [&globals, args] { return restart(globals, *args); }; });

  auto* run_cmd = app.add_subcommand("run", "run a one-off command in the live release");
  add_app_option(run_cmd, args->app);
  run_cmd->add_option("COMMAND", args->items, "the command and its arguments (after --)")
      ->required();
  run_cmd->callback(
      [&, args] { action = [&globals, args] { return run_oneoff(globals, *args); }; });
}

} // namespace slipway::cli
