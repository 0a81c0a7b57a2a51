#include "runtime/daemon/supervisor.hpp"

#include <array>
#include <signal.h>
#include <sys/wait.h>

#include "common/files.hpp"
#include "common/output.hpp"
#include "common/proc.hpp"
#include "common/time.hpp"
#include "common/tree.hpp"
#include "runtime/daemon/nginx.hpp"
#include "runtime/dyno.hpp"
#include "runtime/events.hpp"
#include "runtime/launch.hpp"

namespace slipway::daemon {

namespace fs = std::filesystem;

namespace {

constexpr auto k_stable_after = std::chrono::seconds(60); // up this long: crashes forgotten
// How long a failed launch's message waits for the rest of the process's output.
constexpr milliseconds k_output_drain{500};

} // namespace

void OutputTail::add(std::string_view line) {
  ++total;
  if (line.size() > k_line_length) {
    std::size_t cut = k_line_length;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xc0) == 0x80) {
      --cut; // not inside a UTF-8 sequence
    }
    lines.push_back(std::string(line.substr(0, cut)) + "...");
  } else {
    lines.emplace_back(line);
  }
  if (lines.size() > k_lines) {
    lines.pop_front();
  }
}

std::string_view to_string(DynoState state) {
  switch (state) {
  case DynoState::starting:
    return "starting";
  case DynoState::up:
    return "up";
  case DynoState::crashed:
    return "crashed";
  case DynoState::stopping:
    return "stopping";
  case DynoState::down:
    return "down";
  }
  return "?";
}

Supervisor::Supervisor(Context& context, Nginx& nginx,
                       std::function<HealthTarget(const std::string&)> health_target)
    : m_context(context), m_nginx(nginx), m_health_target(std::move(health_target)),
      m_ports(context.config.runtime.port_min, context.config.runtime.port_max, port_is_free) {}

void Supervisor::kill_leftovers() {
  std::error_code ec;
  for (const auto& app : fs::directory_iterator(m_context.layout.dynos_dir(), ec)) {
    for (const auto& entry : fs::directory_iterator(app.path(), ec)) {
      if (entry.path().extension() != ".pid") {
        continue;
      }
      auto text = read_file(entry.path());
      auto record = text ? parse_pid_record(*text) : std::nullopt;
      if (record && process_start_time(record->pid) == record->start) {
        int pid = record->pid;
        for (int child : descendant_pids(pid)) {
          kill(child, SIGKILL);
        }
        killpg(pid, SIGKILL);
        m_context.say("killed pid {}, left running by an earlier daemon", pid);
      }
    }
  }
}

DynoPtr Supervisor::make_dyno(const std::string& app, std::shared_ptr<const Release> release,
                              const std::string& type, int index, std::shared_ptr<AppLog> log) {
  auto dyno = std::make_shared<Dyno>(m_context.io);
  dyno->app = app;
  dyno->type = type;
  dyno->index = index;
  dyno->release = std::move(release);
  dyno->log = std::move(log);
  for (const auto& [name, command] : dyno->release->process_types) {
    if (name == type) {
      dyno->command = command;
    }
  }
  return dyno;
}

void Supervisor::log(const Dyno& dyno, std::string_view text) {
  dyno.log->append(fmt::format("slipway[{}]", dyno.name()), text);
}

void Supervisor::set_state(Dyno& dyno, DynoState next) {
  if (dyno.state == next) {
    return;
  }
  Event event{.app = dyno.app,
              .resource = "dyno",
              .action = std::string(to_string(next)),
              .actor = "slipway",
              .data = {{"dyno", dyno.name()},
                       {"from", std::string(to_string(dyno.state))},
                       {"to", std::string(to_string(next))},
                       {"version", dyno.release ? dyno.release->version : 0}}};
  dyno.state = next;
  if (auto recorded = record_event(m_context.layout, m_context.config, std::move(event));
      !recorded) {
    m_context.say("warning: {}", recorded.error().message);
  }
  if (next == DynoState::up && dyno.web() && dyno.running && dyno.liveness) {
    HealthTarget target{.check = *dyno.liveness, .host = m_health_target(dyno.app).host};
    asio::co_spawn(m_context.io,
                   watch_liveness(dyno.shared_from_this(), dyno.run, std::move(target)),
                   asio::detached);
  }
}

// A web process that failed its liveness check is killed, and restarts like any crash: a
// process that no longer answers seldom answers SIGTERM either.
awaitable<void> Supervisor::watch_liveness(DynoPtr dyno, long run, HealthTarget target) {
  auto failed = co_await daemon::watch_liveness(dyno, run, std::move(target));
  if (!failed || dyno->run != run || !dyno->running || !dyno->kill_reason.empty()) {
    co_return;
  }
  dyno->kill_reason = *failed;
  Event event{.app = dyno->app,
              .resource = "dyno",
              .action = "unhealthy",
              .actor = "slipway",
              .data = {{"dyno", dyno->name()},
                       {"message", fmt::format("{}; restarting", *failed)},
                       {"version", dyno->release ? dyno->release->version : 0}}};
  if (auto recorded = record_event(m_context.layout, m_context.config, std::move(event));
      !recorded) {
    m_context.say("warning: {}", recorded.error().message);
    log(*dyno, fmt::format("{}; restarting", *failed));
  }
  signal_dyno(*dyno, SIGKILL);
}

// Coroutines cannot use TRY (it returns): errors are passed on with co_return.
awaitable<Expected<void>> Supervisor::launch(DynoPtr dyno) {
  const Layout& layout = m_context.layout;
  auto unpacked = layout.unpacked_dir(dyno->app, dyno->release->version);
  dyno->run = ++m_runs;
  std::string run_name = fmt::format("{}-{}", dyno->name(), dyno->run);
  dyno->dir = layout.dyno_dir(dyno->app, run_name);
  dyno->kill_reason.clear();
  auto sandbox = process_sandbox(layout, m_context.config, dyno->app, run_name);
  if (!sandbox) {
    co_return std::unexpected(sandbox.error());
  }
  dyno->cgroups = sandbox->cgroups;
  auto files = std::make_shared<ProcessFiles>();
  auto made = co_await make_files(unpacked, dyno->dir, sandbox->identity, files);
  if (!made) {
    co_return made;
  }
  if (dyno->web()) {
    auto port = m_ports.allocate();
    if (!port) {
      co_return std::unexpected(port.error());
    }
    dyno->port = *port;
    dyno->last_port = *port;
  }
  auto command = process_command({.release = *dyno->release,
                                  .dyno = dyno->name(),
                                  .command = dyno->command,
                                  .port = dyno->port,
                                  .files = *files,
                                  .sandbox = *sandbox});
  if (!command) {
    release_port(*dyno);
    co_return std::unexpected(command.error());
  }
  auto process =
      spawn(*command, {.capture_output = true, .new_process_group = true, .death_signal = SIGKILL});
  if (!process) {
    release_port(*dyno);
    co_return std::unexpected(process.error());
  }
  dyno->pid = process->pid;
  dyno->running = true;
  dyno->output = std::make_shared<OutputTail>();
  dyno->started_at = SystemClock::now();
  dyno->started_steady = SteadyClock::now();
  if (auto written =
          write_file_atomic(dyno->dir.string() + ".pid",
                            fmt::format("{} {}\n", dyno->pid, process_start_time(dyno->pid)));
      !written) {
    m_context.say("warning: {}: a daemon killed now would leave it running",
                  written.error().message);
  }
  log(*dyno, fmt::format("Starting process with command `{}`{}", dyno->command,
                         dyno->port ? fmt::format(" on port {}", dyno->port) : ""));
  asio::io_context& io = m_context.io;
  auto output = std::make_shared<asio::posix::stream_descriptor>(io, process->output_fd);
  auto pidfd = std::make_shared<asio::posix::stream_descriptor>(io, process->pidfd);
  asio::co_spawn(io, read_output(dyno, output, dyno->output), asio::detached);
  asio::co_spawn(io, wait_exit(dyno, pidfd, process->pid), asio::detached);
  if (dyno->cgroups && dyno->cgroups->memory) {
    if (auto events = dyno->cgroups->memory->oom_events()) {
      auto watched = std::make_shared<asio::posix::stream_descriptor>(io, events->release());
      asio::co_spawn(io, watch_memory(dyno, process->pid, watched), asio::detached);
    }
  }
  co_return Expected<void>();
}

// Heroku's R15: a dyno past its memory quota is killed (the kernel has already killed one
// of its processes) and restarted like any crash.
awaitable<void> Supervisor::watch_memory(DynoPtr dyno, int pid,
                                         std::shared_ptr<asio::posix::stream_descriptor> events) {
  boost::system::error_code error;
  co_await events->async_wait(asio::posix::descriptor_base::wait_read,
                              asio::redirect_error(use_awaitable, error));
  if (error || !dyno->running || dyno->pid != pid) {
    co_return;
  }
  dyno->kill_reason = fmt::format("Error R15 (Memory quota exceeded): a process of {} went "
                                  "past [runtime] memory ({}) and was killed",
                                  dyno->name(), format_size(m_context.config.runtime.memory));
  log(*dyno, dyno->kill_reason);
  signal_dyno(*dyno, SIGKILL);
}

void Supervisor::release_port(Dyno& dyno) {
  if (dyno.port != 0) {
    m_ports.release(dyno.port);
    dyno.port = 0;
  }
}

awaitable<void> Supervisor::read_output(DynoPtr dyno,
                                        std::shared_ptr<asio::posix::stream_descriptor> pipe,
                                        std::shared_ptr<OutputTail> tail) {
  std::string source = fmt::format("app[{}]", dyno->name());
  std::string pending;
  std::array<char, 16384> buffer{};
  std::shared_ptr<AppLog> keep = dyno->log;
  AppLog& app_log = *keep;
  while (true) {
    boost::system::error_code error;
    std::size_t n = co_await pipe->async_read_some(asio::buffer(buffer),
                                                   asio::redirect_error(use_awaitable, error));
    pending.append(buffer.data(), n);
    std::size_t start = 0;
    for (auto newline = pending.find('\n'); newline != std::string::npos;
         newline = pending.find('\n', start)) {
      std::string_view line = std::string_view(pending).substr(start, newline - start);
      if (line.ends_with('\r')) {
        line.remove_suffix(1);
      }
      app_log.append(source, line);
      tail->add(line);
      start = newline + 1;
    }
    pending.erase(0, start);
    if (pending.size() > 16384) {
      app_log.append(source, pending);
      tail->add(pending);
      pending.clear();
    }
    if (error) {
      break;
    }
  }
  if (!pending.empty()) {
    app_log.append(source, pending);
    tail->add(pending);
  }
  tail->closed = true;
}

awaitable<std::vector<std::string>> Supervisor::last_output(DynoPtr dyno) {
  std::shared_ptr<OutputTail> tail = dyno->output;
  std::vector<std::string> lines;
  if (!tail) {
    co_return lines; // it never started
  }
  auto until = SteadyClock::now() + k_output_drain;
  while (!tail->closed && SteadyClock::now() < until) {
    co_await sleep_for(k_poll);
  }
  const std::string name = dyno->name();
  if (tail->total == 0) {
    lines.push_back(detail_line(fmt::format("{} printed nothing", name)));
    co_return lines;
  }
  if (tail->total > tail->lines.size()) {
    lines.push_back(detail_line(
        fmt::format("{} printed {} lines; the last {}:", name, tail->total, tail->lines.size())));
  }
  for (const auto& line : tail->lines) {
    lines.push_back(detail_line(fmt::format("app[{}]: {}", name, printable(line))));
  }
  co_return lines;
}

awaitable<void> Supervisor::wait_exit(DynoPtr dyno,
                                      std::shared_ptr<asio::posix::stream_descriptor> pidfd,
                                      int pid) {
  boost::system::error_code error;
  co_await pidfd->async_wait(asio::posix::descriptor_base::wait_read,
                             asio::redirect_error(use_awaitable, error));
  int native_status = 0;
  while (waitpid(pid, &native_status, 0) < 0 && errno == EINTR) {
  }
  dyno->running = false;
  dyno->last_exit = exit_status_of(native_status);
  if (dyno->kill_reason.empty() && dyno->cgroups && dyno->cgroups->memory &&
      dyno->cgroups->memory->oom_kills() > 0) {
    dyno->kill_reason = fmt::format("Error R15 (Memory quota exceeded): {} went past "
                                    "[runtime] memory ({})",
                                    dyno->name(), format_size(m_context.config.runtime.memory));
    log(*dyno, dyno->kill_reason);
  }
  dyno->exit_reason = dyno->kill_reason.empty() ? dyno->last_exit.describe()
                                                : fmt::format("was killed: {}", dyno->kill_reason);
  log(*dyno, fmt::format("Process {}", dyno->last_exit.describe()));
  std::error_code ec;
  fs::remove(dyno->dir.string() + ".pid", ec);
  remove_later(dyno->dir, std::move(dyno->cgroups));
  bool was_routed = dyno->web() && dyno->state == DynoState::up;
  release_port(*dyno);
  if (!dyno->wanted || m_context.stopping) {
    set_state(*dyno, DynoState::down);
    co_return;
  }
  // A crash. Forget old crashes after a long enough run.
  if (SteadyClock::now() - dyno->started_steady > k_stable_after) {
    dyno->crashes = 0;
  }
  ++dyno->crashes;
  set_state(*dyno, DynoState::crashed);
  if (was_routed) {
    asio::co_spawn(m_context.io, m_nginx.update_logged(), asio::detached);
  }
  if (dyno->probation) {
    co_return; // the activation that started it decides
  }
  milliseconds delay = restart_delay(dyno->crashes);
  if (delay > milliseconds(0)) {
    log(*dyno, fmt::format("Crashed {} times in a row: restarting in {}", dyno->crashes,
                           format_duration(delay)));
  }
  dyno->restart_timer.expires_after(delay);
  boost::system::error_code cancelled;
  co_await dyno->restart_timer.async_wait(asio::redirect_error(use_awaitable, cancelled));
  if (!cancelled && dyno->wanted && !m_context.stopping) {
    co_await bring_up(dyno);
  }
}

// Inside bubblewrap the app runs in its own session below bwrap, so the processes are found
// by walking the tree; killing bwrap itself would SIGKILL the sandbox at once, so SIGTERM
// spares it.
void Supervisor::signal_dyno(const Dyno& dyno, int signal_number) {
  if (!dyno.running || dyno.pid <= 0) {
    return;
  }
  for (int pid : descendant_pids(dyno.pid)) {
    kill(pid, signal_number);
  }
  if (signal_number == SIGKILL || m_context.config.build.sandbox == SandboxMode::none) {
    killpg(dyno.pid, signal_number);
  }
}

awaitable<void> Supervisor::stop(DynoPtr dyno) {
  dyno->wanted = false;
  dyno->restart_timer.cancel();
  if (!dyno->running) {
    set_state(*dyno, DynoState::down);
    co_return;
  }
  set_state(*dyno, DynoState::stopping);
  log(*dyno, "Stopping all processes with SIGTERM");
  signal_dyno(*dyno, SIGTERM);
  const auto grace = m_context.config.runtime.stop_grace;
  auto deadline = SteadyClock::now() + grace;
  while (dyno->running && SteadyClock::now() < deadline) {
    co_await sleep_for(k_poll);
  }
  if (dyno->running) {
    log(*dyno, fmt::format("Error R12 (Exit timeout) -> still running {} after SIGTERM: SIGKILL",
                           format_duration(grace)));
    signal_dyno(*dyno, SIGKILL);
    while (dyno->running) {
      co_await sleep_for(k_poll);
    }
  }
}

awaitable<Expected<void>> Supervisor::wait_healthy(DynoPtr dyno, HealthTarget target) {
  return daemon::wait_healthy(std::move(dyno), std::move(target),
                              m_context.config.runtime.health_timeout);
}

awaitable<void> Supervisor::bring_up(DynoPtr dyno) {
  dyno->wanted = true;
  set_state(*dyno, DynoState::starting);
  if (auto launched = co_await launch(dyno); !launched) {
    log(*dyno, fmt::format("Cannot start: {}", launched.error().message));
    ++dyno->crashes;
    set_state(*dyno, DynoState::crashed);
    co_return;
  }
  if (!dyno->web()) {
    set_state(*dyno, DynoState::up);
    co_return;
  }
  auto healthy = co_await wait_healthy(dyno, m_health_target(dyno->app));
  if (!dyno->wanted || !dyno->running) {
    co_return;
  }
  if (!healthy) {
    log(*dyno, healthy.error().message);
    signal_dyno(*dyno, SIGKILL); // its exit counts as a crash and restarts it
    co_return;
  }
  set_state(*dyno, DynoState::up);
  co_await m_nginx.update_logged();
}

awaitable<void> Supervisor::check_disk_budgets(std::vector<DynoPtr> dynos) {
  std::vector<DynoPtr> running;
  std::vector<fs::path> dirs;
  for (const auto& dyno : dynos) {
    if (dyno->running && dyno->kill_reason.empty()) {
      running.push_back(dyno);
      dirs.push_back(dyno->dir);
    }
  }
  auto over = std::make_shared<std::vector<bool>>(dirs.size(), false);
  co_await measure_disk(dirs, over);
  const std::uint64_t limit = m_context.config.runtime.max_disk;
  for (std::size_t i = 0; i < running.size(); ++i) {
    const DynoPtr& dyno = running[i];
    if ((*over)[i] && dyno->running && dyno->kill_reason.empty()) {
      dyno->kill_reason = fmt::format("Disk quota exceeded: {} wrote more than [runtime] "
                                      "max_disk ({}) to its filesystem",
                                      dyno->name(), format_size(limit));
      log(*dyno, dyno->kill_reason);
      signal_dyno(*dyno, SIGKILL);
    }
  }
}

// The closures below are made in plain functions, not in a coroutine (see context.hpp).

awaitable<Expected<void>> Supervisor::measure_disk(std::vector<fs::path> dirs,
                                                   std::shared_ptr<std::vector<bool>> over) {
  return m_context.off_loop(
      [dirs = std::move(dirs), over, limit = m_context.config.runtime.max_disk] {
        for (std::size_t i = 0; i < dirs.size(); ++i) {
          (*over)[i] = disk_usage(dirs[i], limit) > limit;
        }
        return Expected<void>();
      });
}

awaitable<Expected<void>> Supervisor::make_files(const fs::path& unpacked, const fs::path& dir,
                                                 Owner owner, std::shared_ptr<ProcessFiles> out) {
  return m_context.off_loop([unpacked, dir, owner, out]() -> Expected<void> {
    *out = TRY(make_process_files(unpacked, dir, owner));
    return {};
  });
}

// Removes a process's files and its memory cgroup, off the loop.
void Supervisor::remove_later(const fs::path& dir, std::shared_ptr<SandboxCgroups> cgroups) {
  asio::post(m_context.pool, [dir, cgroups] {
    [[maybe_unused]] auto removed = remove_tree(dir);
    if (cgroups) {
      cgroups->remove();
    }
  });
}

} // namespace slipway::daemon
