#include "ops/processes.hpp"

#include <algorithm>
#include <csignal>
#include <unistd.h>

#include "common/output.hpp"
#include "common/tree.hpp"
#include "compiler/procfile.hpp"
#include "ops/rights.hpp"
#include "ops/settings.hpp"
#include "runtime/app_log.hpp"
#include "runtime/apps.hpp"
#include "runtime/daemon_client.hpp"
#include "runtime/deploy_lock.hpp"
#include "runtime/dyno.hpp"
#include "runtime/launch.hpp"
#include "runtime/release_store.hpp"

namespace slipway::ops {

namespace fs = std::filesystem;

Expected<std::vector<control::ProcessStatus>> list_processes(const Context& context,
                                                             const std::string& app) {
  TRY(authorize(context, "ps", app));
  return daemon_processes(context.layout, app);
}

Expected<std::string> scale(const Context& context, const Scale& request) {
  TRY(authorize(context, "ps:scale", request.app));
  if (request.counts.empty()) {
    return usage_error("nothing to scale (give TYPE=COUNT)");
  }
  auto live = TRY(ReleaseStore(context.layout, request.app).live());
  for (const auto& [type, count] : request.counts) {
    if (!is_process_type_name(type) || count < 0 || count > k_max_scale) {
      return usage_error("'{}={}' is not TYPE=COUNT (a count from 0 to {})", type, count,
                         k_max_scale);
    }
    bool known = live && std::ranges::any_of(live->process_types, [&](const auto& entry) {
                   return entry.first == type;
                 });
    if (!known) {
      return fail("{} has no process type '{}'{}", request.app, type,
                  live ? "" : " (nothing was deployed yet)");
    }
  }
  std::string summary;
  TRY(change_settings(context, request.app, [&](AppInfo& info) -> Expected<Event> {
    nlohmann::json formation = nlohmann::json::object();
    for (const auto& [type, count] : request.counts) {
      info.formation[type] = count;
      formation[type] = count;
      summary += fmt::format("{}{}@{}", summary.empty() ? "" : ", ", type, count);
    }
    return Event{.resource = "formation",
                 .action = "changed",
                 .data = {{"formation", formation}, {"message", "Scaled to " + summary}}};
  }));
  return summary;
}

Expected<int> restart(const Context& context, const Restart& request) {
  TRY(authorize(context, "ps:restart", request.app));
  if (!request.type.empty() && !is_process_type_name(request.type)) {
    return usage_error("invalid process type '{}'", request.type);
  }
  auto lock = TRY(lock_app(context.layout, request.app, context.wait, context.on_output));
  context.on_output(step_line(fmt::format(
      "Restarting {} processes of {}", request.type.empty() ? "all" : request.type, request.app)));
  return restart_processes(context.layout, request.app, request.type, context.on_output);
}

Expected<int> run_oneoff(const Context& context, const RunOneOff& request) {
  TRY(authorize(context, "run", request.app));
  if (request.command.empty()) {
    return usage_error("no command to run");
  }
  auto live = TRY(ReleaseStore(context.layout, request.app).live());
  if (!live) {
    return fail("{} has no live release to run a command in", request.app);
  }
  const Release& release = *live;
  auto unpacked = TRY(ensure_unpacked(context.layout, request.app, release));
  std::string dyno = fmt::format("run.{}", getpid());
  fs::path dir = context.layout.oneoff_dir(request.app, dyno);
  auto sandbox = TRY(process_sandbox(context.layout, context.config, request.app, dyno));
  auto cleanup = [&] {
    [[maybe_unused]] auto removed = remove_tree(dir);
    if (sandbox.cgroups) {
      sandbox.cgroups->remove();
    }
  };
  if (auto copied = make_process_copy(unpacked, dir, sandbox.identity); !copied) {
    cleanup();
    return std::unexpected(copied.error());
  }
  std::string command = request.command.size() == 1 ? request.command.front() : "";
  for (std::size_t i = 0; request.command.size() > 1 && i < request.command.size(); ++i) {
    command += (i == 0 ? "" : " ") + shell_quote(request.command[i]);
  }
  AppLog log(context.layout.log_dir(request.app), context.config.runtime.log_size);
  log.append("slipway[api]", fmt::format("Starting process with command `{}` ({}) by {}", command,
                                         dyno, context.actor.name));
  auto prepared = process_command(
      {.release = release, .dyno = dyno, .command = command, .app_dir = dir, .sandbox = sandbox});
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
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGQUIT, SIG_IGN);
  ExitStatus status = wait_spawned(*process);
  cleanup();
  log.append(fmt::format("slipway[{}]", dyno), fmt::format("Process {}", status.describe()));
  return status.code;
}

} // namespace slipway::ops
