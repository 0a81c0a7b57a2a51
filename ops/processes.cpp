#include "ops/processes.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <unistd.h>

#include "common/files.hpp"
#include "common/output.hpp"
#include "common/paths.hpp"
#include "common/proc.hpp"
#include "common/random.hpp"
#include "common/tree.hpp"
#include "compiler/procfile.hpp"
#include "compiler/release_yaml.hpp"
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

Expected<ScaleChange> parse_scale_change(std::string_view text) {
  auto at = text.find_first_of("=+-");
  std::string_view digits = at == std::string_view::npos ? "" : text.substr(at + 1);
  int count = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  if (at == std::string_view::npos || at == 0 || digits.empty() || ec != std::errc() ||
      end != digits.data() + digits.size() ||
      !std::isdigit(static_cast<unsigned char>(digits[0]))) {
    return usage_error("'{}' is not TYPE=COUNT, TYPE+COUNT or TYPE-COUNT", printable(text));
  }
  ScaleChange change{.type = std::string(text.substr(0, at)), .count = count};
  change.how = text[at] == '='   ? ScaleChange::How::set
               : text[at] == '+' ? ScaleChange::How::add
                                 : ScaleChange::How::remove;
  return change;
}

Expected<std::string> scale(const Context& context, const Scale& request) {
  TRY(authorize(context, "ps:scale", request.app));
  if (request.changes.empty()) {
    return usage_error("nothing to scale (give TYPE=COUNT)");
  }
  auto live = TRY(ReleaseStore(context.layout, request.app).live());
  for (const auto& change : request.changes) {
    if (!is_process_type_name(change.type)) {
      return usage_error("invalid process type '{}'", printable(change.type));
    }
    if (change.count > k_max_scale) {
      return usage_error("'{}{}{}' is not TYPE=COUNT (a count from 0 to {})", change.type,
                         change.how == ScaleChange::How::set   ? '='
                         : change.how == ScaleChange::How::add ? '+'
                                                               : '-',
                         change.count, k_max_scale);
    }
    bool known = live && std::ranges::any_of(live->process_types, [&](const auto& entry) {
                   return entry.first == change.type;
                 });
    if (!known) {
      return fail("{} has no process type '{}'{}", request.app, change.type,
                  live ? "" : " (nothing was deployed yet)");
    }
  }
  std::string summary;
  TRY(change_settings(context, request.app, [&](AppInfo& info) -> Expected<Event> {
    // Relative changes apply to the formation as it is under the lock.
    std::map<std::string, int> counts;
    for (const auto& change : request.changes) {
      auto it = counts.find(change.type);
      int now = it != counts.end()                     ? it->second
                : info.formation.contains(change.type) ? info.formation.at(change.type)
                                                       : default_scale(change.type);
      int wanted = change.how == ScaleChange::How::set   ? change.count
                   : change.how == ScaleChange::How::add ? now + change.count
                                                         : now - change.count;
      if (wanted < 0 || wanted > k_max_scale) {
        return usage_error("{} would run {} {} processes; a count is from 0 to {}", request.app,
                           wanted, change.type, k_max_scale);
      }
      counts[change.type] = wanted;
    }
    nlohmann::json formation = nlohmann::json::object();
    for (const auto& [type, count] : counts) {
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

Expected<std::vector<FormationEntry>> formation(const Context& context, const std::string& app) {
  TRY(authorize(context, "ps", app));
  auto live = TRY(ReleaseStore(context.layout, app).live());
  auto info = TRY(app_info(context.layout, app));
  std::vector<FormationEntry> entries;
  if (!live) {
    return entries;
  }
  for (const auto& [type, count] : process_counts(info.formation, live->process_types)) {
    auto command = std::ranges::find(live->process_types, type, &ProcessTypes::value_type::first);
    entries.push_back({type, count, command->second});
  }
  return entries;
}

Expected<ProcessSize> process_size(const Context& context, const std::string& app) {
  TRY(authorize(context, "ps:type", app));
  const auto& runtime = context.config.runtime;
  return ProcessSize{runtime.memory, runtime.processes, runtime.max_disk};
}

namespace {

// `ps:stop run.N`: one-off processes are not the daemon's; their record names them.
Expected<int> stop_oneoff(const Context& context, const std::string& app, const std::string& dyno) {
  auto record = read_file(context.layout.oneoff_record(app, dyno));
  int pid = 0;
  long start_time = 0;
  if (!record || std::sscanf(record->c_str(), "%d %ld", &pid, &start_time) != 2 || pid <= 1 ||
      !process_alive(pid, start_time)) {
    return fail("{} has no {} process running", app, dyno);
  }
  context.on_output(step_line(fmt::format("Stopping {} of {}", dyno, app)));
  ::kill(-pid, SIGTERM); // its process group: the sandbox and what runs in it
  return 1;
}

} // namespace

Expected<int> restart(const Context& context, const Restart& request) {
  TRY(authorize(context, request.stop ? "ps:stop" : "ps:restart", request.app));
  if (request.stop && request.target.starts_with("run.") &&
      request.target.find_first_not_of("0123456789", 4) == std::string::npos &&
      request.target.size() > 4 && request.target.size() <= 12) {
    return stop_oneoff(context, request.app, request.target);
  }
  std::string_view type = request.target;
  if (auto dot = type.find('.'); dot != std::string_view::npos) {
    int index = 0;
    auto digits = type.substr(dot + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec != std::errc() || end != digits.data() + digits.size() || index < 1 ||
        index > k_max_scale) {
      return usage_error("invalid process '{}' (expected TYPE or TYPE.N, e.g. web.1)",
                         printable(request.target));
    }
    type = type.substr(0, dot);
  }
  if (!request.target.empty() && !is_process_type_name(type)) {
    return usage_error("invalid process type '{}'", printable(request.target));
  }
  auto lock = TRY(lock_app(context.layout, request.app, context.wait, context.on_output));
  std::string what = request.target.empty()                          ? "all processes"
                     : request.target.find('.') == std::string::npos ? request.target + " processes"
                                                                     : request.target;
  context.on_output(step_line(
      fmt::format("{} {} of {}", request.stop ? "Stopping" : "Restarting", what, request.app)));
  return restart_processes(context.layout, request.app, request.target, context.on_output,
                           request.stop);
}

namespace {

// The command line a one-off runs: a process type's command, a shell line, or an argv.
std::string oneoff_command(const Release& release, const std::vector<std::string>& words) {
  if (words.size() == 1) {
    auto type =
        std::ranges::find(release.process_types, words.front(), &ProcessTypes::value_type::first);
    return type != release.process_types.end() ? type->second : words.front();
  }
  std::string command;
  for (const auto& word : words) {
    command += (command.empty() ? "" : " ") + shell_quote(word);
  }
  return command;
}

Expected<void> check_oneoff(const RunOneOff& request) {
  if (request.command.empty()) {
    return usage_error("no command to run");
  }
  for (const auto& [name, value] : request.env) {
    if (!is_config_var_name(name)) {
      return usage_error("invalid variable name '{}' (use letters, digits and _, not starting "
                         "with a digit)",
                         printable(name));
    }
  }
  if (!request.dyno.empty() &&
      (!request.dyno.starts_with("run.") ||
       request.dyno.find_first_not_of("0123456789", 4) != std::string::npos ||
       request.dyno.size() < 5 || request.dyno.size() > 12)) {
    return usage_error("invalid one-off process name '{}'", printable(request.dyno));
  }
  return {};
}

// Every line the one-off prints, into the app log as app[run.N].
void copy_to_log(int fd, AppLog& log, const std::string& source) {
  std::string pending;
  char buffer[8192];
  for (;;) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      break;
    }
    pending.append(buffer, static_cast<std::size_t>(got));
    for (auto newline = pending.find('\n'); newline != std::string::npos;
         newline = pending.find('\n')) {
      log.append(source, std::string_view(pending).substr(0, newline));
      pending.erase(0, newline + 1);
    }
    if (pending.size() > 64 * 1024) { // a line that never ends is logged in pieces
      log.append(source, pending);
      pending.clear();
    }
  }
  if (!pending.empty()) {
    log.append(source, pending);
  }
}

} // namespace

namespace {

// A swarm app's one-off: a task of the live release, which the daemon starts and follows;
// `-e` variables are exported before the command.
Expected<int> run_on_swarm(const Context& context, const RunOneOff& request, const Release& release,
                           const std::string& dyno) {
  std::string command;
  for (const auto& [name, value] : request.env) {
    command += fmt::format("export {}={}; ", name, shell_quote(value));
  }
  command += oneoff_command(release, request.command);
  AppLog log(context.layout.log_dir(request.app), context.config.runtime.log_size);
  log.append("slipway[api]", fmt::format("Starting process with command `{}` ({}) on swarm by {}",
                                         command, dyno, context.actor.name));
  auto status = run_on_cluster(context.layout, request.app, command, [&](std::string_view line) {
    if (request.to_log) {
      log.append(fmt::format("app[{}]", dyno), line);
    } else {
      std::string text = std::string(line) + "\n";
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
  });
  if (status) {
    log.append("slipway[api]", fmt::format("Process exited with status {} ({})", *status, dyno));
  }
  return status;
}

} // namespace

Expected<int> run_oneoff(const Context& context, const RunOneOff& request) {
  TRY(authorize(context, request.to_log ? "run:detached" : "run", request.app));
  TRY(check_oneoff(request));
  auto live = TRY(ReleaseStore(context.layout, request.app).live());
  if (!live) {
    return fail("{} has no live release to run a command in", request.app);
  }
  const Release& release = *live;
  std::string dyno = request.dyno.empty() ? fmt::format("run.{}", getpid()) : request.dyno;
  if (auto info = app_info(context.layout, request.app);
      info && app_engine(context.config, *info) == Engine::swarm) {
    return run_on_swarm(context, request, release, dyno);
  }
  auto unpacked = TRY(ensure_unpacked(context.layout, context.config, request.app, release));
  fs::path dir = context.layout.oneoff_dir(request.app, dyno);
  if (std::error_code ec; fs::exists(fs::symlink_status(dir, ec))) {
    return fail("a one-off process named {} is already running", dyno);
  }
  auto sandbox = TRY(process_sandbox(context.layout, context.config, request.app, dyno));
  auto cleanup = [&] {
    [[maybe_unused]] auto removed = remove_tree(dir);
    if (sandbox.cgroups) {
      sandbox.cgroups->remove();
    }
  };
  auto files = make_process_files(unpacked, dir, sandbox.identity);
  if (!files) {
    cleanup();
    return std::unexpected(files.error());
  }
  std::string command = oneoff_command(release, request.command);
  AppLog log(context.layout.log_dir(request.app), context.config.runtime.log_size);
  log.append("slipway[api]", fmt::format("Starting process with command `{}` ({}) by {}", command,
                                         dyno, context.actor.name));
  auto prepared = process_command({.release = release,
                                   .dyno = dyno,
                                   .command = command,
                                   .files = *files,
                                   .sandbox = sandbox,
                                   .env = request.env});
  if (!prepared) {
    cleanup();
    return std::unexpected(prepared.error());
  }
  auto process =
      spawn(*prepared, {.capture_output = request.to_log, .new_process_group = request.to_log});
  if (!process) {
    cleanup();
    return std::unexpected(process.error());
  }
  // A detached one-off leads its own process group: `ps:stop run.N` ends it.
  fs::path record = context.layout.oneoff_record(request.app, dyno);
  if (request.to_log) {
    [[maybe_unused]] auto written = write_file_atomic(
        record, fmt::format("{} {}\n", process->pid, process_start_time(process->pid)), 0600);
  }
  if (request.to_log) {
    copy_to_log(process->output_fd, log, fmt::format("app[{}]", dyno));
    ::close(process->output_fd);
  } else {
    // Like system(3): a ^C at the terminal is for the command; we wait for it.
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGQUIT, SIG_IGN);
  }
  ExitStatus status = wait_spawned(*process);
  std::error_code ec;
  fs::remove(record, ec);
  cleanup();
  log.append(fmt::format("slipway[{}]", dyno), fmt::format("Process {}", status.describe()));
  return status.code;
}

Expected<std::string> run_detached(const Context& context, const RunOneOff& request) {
  TRY(authorize(context, "run:detached", request.app));
  TRY(check_oneoff(request));
  auto live = TRY(ReleaseStore(context.layout, request.app).live());
  if (!live) {
    return fail("{} has no live release to run a command in", request.app);
  }
  // What the detached process would find, told now: its own errors reach no one.
  if (!live->has_slug()) {
    return fail("v{} has no slug: nothing was built yet", live->version);
  }
  // A name no running one-off has: run.N with N from 1000 up, as Heroku's, from a random
  // start (the daemon starts many, for the Platform API, from one pid).
  std::string dyno;
  std::error_code ec;
  int start = std::stoi(TRY(random_hex(2)), nullptr, 16) % 9000;
  for (int n = 1000 + start; dyno.empty(); ++n) {
    std::string name = fmt::format("run.{}", n);
    if (!fs::exists(fs::symlink_status(context.layout.oneoff_dir(request.app, name), ec))) {
      dyno = name;
    }
  }
  // The one-off runs in a process of its own, detached from this one and its terminal,
  // acting as the same key (the daemon, for the Platform API, acts for keys that its own
  // environment does not name).
  std::vector<std::string> argv = {self_executable().string(),
                                   "--root",
                                   context.layout.root().string(),
                                   "run",
                                   "-a",
                                   request.app,
                                   "--detached-as",
                                   dyno};
  for (const auto& [name, value] : request.env) {
    argv.insert(argv.end(), {"-e", name + "=" + value});
  }
  argv.push_back("--");
  argv.insert(argv.end(), request.command.begin(), request.command.end());
  if (context.actor.local) {
    TRY(spawn_detached(argv, {}, {"SLIPWAY_USER"}));
  } else {
    TRY(spawn_detached(argv, {{"SLIPWAY_USER", context.actor.name}}));
  }
  return dyno;
}

} // namespace slipway::ops
