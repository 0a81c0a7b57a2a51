#include "runtime/daemon.hpp"

#include <charconv>
#include <cstdio>
#include <fcntl.h>
#include <map>
#include <memory>
#include <set>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility> // Boost.Asio 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "common/cgroup.hpp"
#include "common/file_lock.hpp"
#include "common/output.hpp"
#include "common/paths.hpp"
#include "common/subprocess.hpp"
#include "common/time.hpp"
#include "common/tree.hpp"
#include "compiler/app_manifest.hpp"
#include "runtime/app_log.hpp"
#include "runtime/app_name.hpp"
#include "runtime/apps.hpp"
#include "runtime/deploy_lock.hpp"
#include "runtime/dyno.hpp"
#include "runtime/events.hpp"
#include "runtime/health.hpp"
#include "runtime/launch.hpp"
#include "runtime/operation.hpp"
#include "runtime/port_pool.hpp"
#include "runtime/release_store.hpp"
#include "runtime/router.hpp"

namespace slipway {

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using asio::awaitable;
using asio::use_awaitable;
using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;
using std::chrono::milliseconds;

constexpr milliseconds k_poll{20};
constexpr milliseconds k_probe_timeout{2000};
constexpr milliseconds k_router_timeout{10000};
constexpr milliseconds k_heartbeat_every{2000};
constexpr milliseconds k_min_nginx_delay{200};
constexpr milliseconds k_max_nginx_delay{5000};
constexpr std::size_t k_max_request = 64 * 1024;
constexpr auto k_stable_after = std::chrono::seconds(60); // up this long: crashes forgotten
// How often apps are checked for what an interrupted operation left, and for processes
// past their disk budget.
constexpr milliseconds k_sweep_every{1000};
constexpr auto k_settle_again_after = std::chrono::seconds(3);
constexpr long k_disk_check_rounds = 5; // of the sweep: every 5s

enum class DynoState { starting, up, crashed, stopping, down };

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

awaitable<void> sleep_for(milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(duration);
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
}

std::string seconds_text(SteadyClock::duration elapsed) {
  return fmt::format("{:.1f}s", std::chrono::duration_cast<milliseconds>(elapsed).count() / 1000.0);
}

long elapsed_ms(SteadyClock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<milliseconds>(SteadyClock::now() - since).count());
}

// One process of an app: "web.1". The object outlives restarts; `pid` is the current run.
struct Dyno {
  explicit Dyno(asio::io_context& io) : restart_timer(io) {}

  std::string app;
  std::string type;
  int index = 0;
  std::shared_ptr<const Release> release;
  std::string command;

  int pid = -1;
  int port = 0;
  bool running = false;
  bool wanted = true;     // false once it is being stopped on purpose: no restart
  bool probation = false; // an activation is judging it: a crash fails the activation
  DynoState state = DynoState::starting;
  ExitStatus last_exit;
  int crashes = 0; // in a row
  TimePoint started_at;
  SteadyClock::time_point started_steady;
  fs::path dir;
  std::string exit_reason; // why it stopped, for an activation's message
  std::string kill_reason; // why the daemon killed it (memory, disk), logged at its exit
  std::shared_ptr<SandboxCgroups> cgroups; // of the current run
  asio::steady_timer restart_timer;

  std::string name() const { return fmt::format("{}.{}", type, index); }
  bool web() const { return type == "web"; }
};
using DynoPtr = std::shared_ptr<Dyno>;

struct AppState {
  std::shared_ptr<const Release> release; // what its processes run; null: nothing live
  std::vector<DynoPtr> dynos;             // the live generation
  std::vector<std::string> hosts;
  HealthCheck health;
  std::shared_ptr<AppLog> log;
  bool busy = false;                  // an activation, scaling or restart is under way
  SteadyClock::time_point settled_at; // when the sweep last started settling it
};

class Daemon {
 public:
  Daemon(const Layout& layout, Config config)
      : m_layout(layout), m_config(std::move(config)), m_signals(m_io, SIGTERM, SIGINT),
        m_acceptor(m_io),
        m_ports(m_config.runtime.port_min, m_config.runtime.port_max, port_is_free) {
    m_router.prefix = layout.nginx_dir();
  }

  Expected<void> run() {
    if (auto ready = prepare(); !ready) {
      return ready;
    }
    say("slipway daemon {} serving {} (pid {})", "0.1.0", m_layout.root().string(), getpid());
    m_signals.async_wait([this](const boost::system::error_code& error, int signal_number) {
      if (!error) {
        say("received signal {}: stopping every process", signal_number);
        asio::co_spawn(m_io, shutdown(), asio::detached);
      }
    });
    asio::co_spawn(m_io, main(), [this](std::exception_ptr error) {
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          m_failure = e.what();
        }
        m_io.stop();
      }
    });
    m_io.run();
    m_pool.join();
    std::error_code ec;
    fs::remove(m_layout.daemon_socket(), ec);
    fs::remove(m_layout.run_dir() / "daemon.pid", ec);
    if (!m_failure.empty()) {
      return fail("{}", m_failure);
    }
    say("stopped");
    return {};
  }

 private:
  template <class... Args>
  void say(fmt::format_string<Args...> format, Args&&... args) {
    std::string line =
        fmt::format("{} slipway[daemon]: {}\n", format_time(std::chrono::system_clock::now()),
                    fmt::format(format, std::forward<Args>(args)...));
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }

  // ---------------------------------------------------------------- startup, shutdown

  Expected<void> prepare() {
    std::error_code ec;
    fs::create_directories(m_layout.run_dir(), ec);
    auto lock = FileLock::try_acquire(m_layout.daemon_lock(), FileLock::Mode::exclusive);
    if (!lock) {
      return std::unexpected(lock.error());
    }
    if (!*lock) {
      return fail("a slipway daemon is already running for {}", m_layout.root().string());
    }
    m_lock.emplace(std::move(**lock));
    // What the next daemon reads to stop what this one leaves if it is killed.
    if (auto written =
            write_file_atomic(m_layout.run_dir() / "daemon.pid", fmt::format("{}\n", getpid()));
        !written) {
      return written;
    }
    kill_leftovers();
    fs::remove_all(m_layout.dynos_dir(), ec);
    fs::create_directories(m_layout.dynos_dir(), ec);
    fs::create_directories(m_router.prefix, ec);

    // The socket last: a client that can connect finds a daemon ready for it.
    fs::remove(m_layout.daemon_socket(), ec);
    boost::system::error_code error;
    asio::local::stream_protocol::endpoint endpoint(m_layout.daemon_socket().string());
    m_acceptor.open(endpoint.protocol(), error);
    if (!error) {
      mode_t umask_before = umask(0177); // the socket is the owner's from its first instant
      m_acceptor.bind(endpoint, error);
      umask(umask_before);
    }
    if (!error) {
      m_acceptor.listen(64, error);
    }
    if (error) {
      return fail("cannot listen on '{}': {}", m_layout.daemon_socket().string(), error.message());
    }
    return {};
  }

  // Processes a daemon killed with SIGKILL left behind (those not in a sandbox that dies
  // with it), recognised by pid and start time; and its nginx.
  void kill_leftovers() {
    std::error_code ec;
    for (const auto& app : fs::directory_iterator(m_layout.dynos_dir(), ec)) {
      for (const auto& entry : fs::directory_iterator(app.path(), ec)) {
        if (entry.path().extension() != ".pid") {
          continue;
        }
        auto text = read_file(entry.path());
        int pid = 0;
        long start = 0;
        if (text && std::sscanf(text->c_str(), "%d %ld", &pid, &start) == 2 && pid > 1 &&
            process_start_time(pid) == start) {
          for (int child : descendant_pids(pid)) {
            kill(child, SIGKILL);
          }
          killpg(pid, SIGKILL);
          say("killed pid {}, left running by an earlier daemon", pid);
        }
      }
    }
    // The nginx it started, by pid and start time (pids are reused within seconds here).
    auto text = read_file(nginx_record());
    int pid = 0;
    long start = 0;
    if (text && std::sscanf(text->c_str(), "%d %ld", &pid, &start) == 2 && pid > 1) {
      if (process_alive(pid, start)) {
        kill(pid, SIGQUIT);
        for (int i = 0; i < 250 && process_alive(pid, start); ++i) {
          usleep(20000);
        }
        kill(pid, SIGKILL);
        say("stopped nginx pid {}, left running by an earlier daemon", pid);
      }
      // Its workers outlive a master killed with SIGKILL, and keep the port.
      kill_nginx_group(pid, start);
    }
    remove_stale_cgroups(m_layout.id());
  }

  fs::path nginx_record() const { return m_router.prefix / "master.pid"; }

  // Kills the workers that a killed nginx master (pid `master`, started at `start`) left:
  // nginx processes still in its process group, started after it, and no longer its
  // children (a new process that took the pid has children of its own), and waits until
  // they are gone: they hold the listening sockets.
  static int kill_nginx_group(int master, long start) {
    auto members = [master, start] {
      std::vector<int> found;
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
          continue;
        }
        int pid = std::stoi(name);
        auto stat = process_stat(pid);
        if (pid != master && stat && stat->pgid == master && stat->ppid != master &&
            stat->start_time >= start && stat->comm.starts_with("nginx") && stat->state != 'Z') {
          found.push_back(pid);
        }
      }
      return found;
    };
    auto left = members();
    for (int pid : left) {
      kill(pid, SIGKILL);
    }
    for (int i = 0; i < 200 && !left.empty(); ++i) {
      usleep(10000);
      left = members();
    }
    return static_cast<int>(left.size());
  }

  awaitable<void> main() {
    // Every app is in nginx's first configuration: until its processes pass their health
    // checks it answers 503 (starting), not 404 (no such app).
    for (const auto& app : list_apps(m_layout)) {
      refresh_settings(app, state(app));
    }
    if (auto started = co_await start_nginx(); !started) {
      throw std::runtime_error(started.error().message);
    }
    asio::co_spawn(m_io, accept_loop(), asio::detached);
    for (const auto& app : list_apps(m_layout)) {
      co_await load_app(app);
    }
    co_await update_router();
    asio::co_spawn(m_io, sweep(), asio::detached);
  }

  // Every k_sweep_every: apps that an interrupted operation left unsettled (a push in
  // flight whose client is gone, a pending release, a damaged `current`, scratch dirs of a
  // killed build) get `slipway housekeep`, which settles and cleans them; processes past
  // their disk budget are restarted.
  awaitable<void> sweep() {
    for (long round = 1; !m_stopping; ++round) {
      co_await sleep_for(k_sweep_every);
      if (m_stopping) {
        break;
      }
      for (const auto& name : list_apps(m_layout)) {
        settle_if_needed(name);
      }
      if (round % k_disk_check_rounds == 0) {
        co_await check_disk_budgets();
      }
    }
  }

  void settle_if_needed(const std::string& name) {
    AppState& app = state(name);
    if (SteadyClock::now() - app.settled_at < k_settle_again_after) {
      return;
    }
    std::error_code ec;
    bool leftovers = !fs::is_empty(m_layout.tmp_dir(name), ec) && !ec;
    if (!leftovers && !needs_settling(m_layout, name)) {
      return;
    }
    // Only when no operation runs: an operation settles the app itself when it begins.
    auto free = FileLock::try_acquire(m_layout.lock_file(name), FileLock::Mode::exclusive);
    if (!free || !*free) {
      return;
    }
    free->reset();
    app.settled_at = SteadyClock::now();
    if (!leftovers || needs_settling(m_layout, name)) {
      say("{}: settling what an interrupted operation left", name);
    }
    auto started = spawn_detached(
        {self_executable().string(), "--root", m_layout.root().string(), "housekeep", "-a", name});
    if (!started) {
      say("{}: {}", name, started.error().message);
    }
  }

  // Measures every running process's copy off the loop (a big tree takes a while), then
  // restarts those past [runtime].max_disk.
  awaitable<void> check_disk_budgets() {
    std::vector<DynoPtr> running;
    std::vector<fs::path> dirs;
    for (auto& [name, app] : m_apps) {
      for (const auto& dyno : app.dynos) {
        if (dyno->running && dyno->kill_reason.empty()) {
          running.push_back(dyno);
          dirs.push_back(dyno->dir);
        }
      }
    }
    auto over = std::make_shared<std::vector<bool>>(dirs.size(), false);
    co_await measure_disk(dirs, over);
    const std::uint64_t limit = m_config.runtime.max_disk;
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

  // disk_usage of each dir against the limit, on the pool (see unpack() for why this is no
  // coroutine).
  awaitable<Expected<void>> measure_disk(std::vector<fs::path> dirs,
                                         std::shared_ptr<std::vector<bool>> over) {
    return off_loop([dirs = std::move(dirs), over, limit = m_config.runtime.max_disk] {
      for (std::size_t i = 0; i < dirs.size(); ++i) {
        (*over)[i] = disk_usage(dirs[i], limit) > limit;
      }
      return Expected<void>();
    });
  }

  // Starts the app's live release in the background; its web processes join the router as
  // they pass their health checks.
  awaitable<void> load_app(const std::string& name) {
    auto guard = co_await claim(name); // a push may already be activating it
    AppState& app = state(name);
    refresh_settings(name, app);
    auto live = ReleaseStore(m_layout, name).live();
    if (!live) {
      say("{}: {}", name, live.error().message);
      co_return;
    }
    if (!*live || !(*live)->has_slug()) {
      co_return;
    }
    app.release = std::make_shared<const Release>(std::move(**live));
    if (auto unpacked = co_await unpack(name, *app.release); !unpacked) {
      app.log->append("slipway[api]", fmt::format("Cannot start v{}: {}", app.release->version,
                                                  unpacked.error().message));
      say("{}: {}", name, unpacked.error().message);
      co_return;
    }
    auto health = web_health_check(m_layout.unpacked_dir(name, app.release->version));
    if (health) {
      app.health = *health;
    }
    for (auto& [type, count] : formation(name, *app.release)) {
      for (int index = 1; index <= count; ++index) {
        auto dyno = make_dyno(name, app.release, type, index);
        app.dynos.push_back(dyno);
        asio::co_spawn(m_io, bring_up(dyno), asio::detached);
      }
    }
  }

  awaitable<void> shutdown() {
    m_stopping = true;
    boost::system::error_code ignored;
    m_acceptor.close(ignored);
    std::vector<DynoPtr> all;
    for (auto& [name, app] : m_apps) {
      all.insert(all.end(), app.dynos.begin(), app.dynos.end());
    }
    all.insert(all.end(), m_retiring.begin(), m_retiring.end());
    for (const auto& dyno : all) {
      asio::co_spawn(m_io, stop(dyno), asio::detached);
    }
    while (std::ranges::any_of(all, [](const DynoPtr& dyno) { return dyno->running; })) {
      co_await sleep_for(k_poll);
    }
    if (m_nginx_pid > 0) {
      kill(m_nginx_pid, SIGQUIT);
      auto deadline = SteadyClock::now() + m_config.runtime.stop_grace;
      while (m_nginx_running && SteadyClock::now() < deadline) {
        co_await sleep_for(k_poll);
      }
      if (m_nginx_running) {
        kill(m_nginx_pid, SIGKILL);
      }
    }
    m_io.stop();
  }

  // ---------------------------------------------------------------- apps

  AppState& state(const std::string& name) {
    AppState& app = m_apps[name];
    if (!app.log) {
      app.log = std::make_shared<AppLog>(m_layout.log_dir(name), m_config.runtime.log_size);
    }
    return app;
  }

  void refresh_settings(const std::string& name, AppState& app) {
    app.hosts = {fmt::format("{}.{}", name, m_config.server.domain)};
    if (auto info = app_info(m_layout, name)) {
      app.hosts.insert(app.hosts.end(), info->domains.begin(), info->domains.end());
    }
  }

  // How many processes of each of the release's types run, in the Procfile's order.
  std::vector<std::pair<std::string, int>> formation(const std::string& name,
                                                     const Release& release) {
    std::map<std::string, int> scale;
    if (auto info = app_info(m_layout, name)) {
      scale = info->formation;
    }
    std::vector<std::pair<std::string, int>> counts;
    for (const auto& [type, command] : release.process_types) {
      auto it = scale.find(type);
      counts.emplace_back(type, it != scale.end() ? it->second : default_scale(type));
    }
    return counts;
  }

  // Waits for the app's other activation, scaling or restart to finish, then marks it busy
  // until the returned guard goes.
  awaitable<std::shared_ptr<void>> claim(const std::string& name) {
    while (state(name).busy) {
      co_await sleep_for(k_poll);
    }
    co_return busy_guard(name);
  }

  // Runs `work` (a copy or an unpack: slow disk work) on the thread pool; the returned
  // awaitable resumes on the loop with its result. A timer that never expires serves as the
  // completion event: the pool cancels it through the loop. Not a coroutine itself, so the
  // work never lives in a coroutine frame (see unpack()), and every coroutine runs on the
  // loop's thread: the pool only ever runs plain functions.
  awaitable<Expected<void>> off_loop(std::function<Expected<void>()> work) {
    auto job = std::make_shared<Job>(m_io);
    asio::post(m_pool, [work = std::move(work), job] {
      job->result = work();
      asio::post(job->done.get_executor(), [job] { job->done.cancel(); });
    });
    return wait_for(job);
  }

  struct Job {
    explicit Job(asio::io_context& io) : done(io, asio::steady_timer::time_point::max()) {}
    asio::steady_timer done;
    Expected<void> result;
  };

  static awaitable<Expected<void>> wait_for(std::shared_ptr<Job> job) {
    boost::system::error_code cancelled;
    co_await job->done.async_wait(asio::redirect_error(use_awaitable, cancelled));
    co_return job->result;
  }

  // g++ 12 miscompiles a lambda that copies locals when it is made inside a coroutine
  // body, so every such closure below is made in a plain function like this one.
  awaitable<Expected<void>> unpack(const std::string& name, const Release& release) {
    return off_loop([layout = m_layout, name, release]() -> Expected<void> {
      auto unpacked = ensure_unpacked(layout, name, release);
      if (!unpacked) {
        return std::unexpected(unpacked.error());
      }
      return {};
    });
  }

  awaitable<Expected<void>> copy_files(const fs::path& unpacked, const fs::path& dir, Owner owner) {
    return off_loop([unpacked, dir, owner] { return make_process_copy(unpacked, dir, owner); });
  }

  // Removes a process's copy of its release and its memory cgroup, off the loop.
  void remove_later(const fs::path& dir, std::shared_ptr<SandboxCgroups> cgroups) {
    asio::post(m_pool, [dir, cgroups] {
      [[maybe_unused]] auto removed = remove_tree(dir);
      if (cgroups) {
        cgroups->remove();
      }
    });
  }

  std::shared_ptr<void> busy_guard(const std::string& name) {
    state(name).busy = true;
    return std::shared_ptr<void>(nullptr, [this, name](void*) { state(name).busy = false; });
  }

  // ---------------------------------------------------------------- processes

  DynoPtr make_dyno(const std::string& app, std::shared_ptr<const Release> release,
                    const std::string& type, int index) {
    auto dyno = std::make_shared<Dyno>(m_io);
    dyno->app = app;
    dyno->type = type;
    dyno->index = index;
    dyno->release = std::move(release);
    for (const auto& [name, command] : dyno->release->process_types) {
      if (name == type) {
        dyno->command = command;
      }
    }
    return dyno;
  }

  void log(const Dyno& dyno, std::string_view text) {
    state(dyno.app).log->append(fmt::format("slipway[{}]", dyno.name()), text);
  }

  void set_state(Dyno& dyno, DynoState next) {
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
    if (auto recorded = record_event(m_layout, m_config, std::move(event)); !recorded) {
      say("warning: {}", recorded.error().message);
    }
  }

  // Starts one run of the dyno: a fresh copy of the release's files, a port for web, the
  // sandboxed process, and the coroutines that read its output and wait for its exit.
  awaitable<Expected<void>> launch(DynoPtr dyno) {
    auto unpacked = m_layout.unpacked_dir(dyno->app, dyno->release->version);
    std::string run_name = fmt::format("{}-{}", dyno->name(), ++m_runs);
    dyno->dir = m_layout.dynos_dir() / dyno->app / run_name;
    dyno->kill_reason.clear();
    auto sandbox = process_sandbox(m_layout, m_config, dyno->app, run_name);
    if (!sandbox) {
      co_return std::unexpected(sandbox.error());
    }
    dyno->cgroups = sandbox->cgroups;
    auto copied = co_await copy_files(unpacked, dyno->dir, sandbox->identity);
    if (!copied) {
      co_return copied;
    }
    if (dyno->web()) {
      auto port = m_ports.allocate();
      if (!port) {
        co_return std::unexpected(port.error());
      }
      dyno->port = *port;
    }
    auto command = process_command({.release = *dyno->release,
                                    .dyno = dyno->name(),
                                    .command = dyno->command,
                                    .port = dyno->port,
                                    .app_dir = dyno->dir,
                                    .sandbox = *sandbox});
    if (!command) {
      release_port(*dyno);
      co_return std::unexpected(command.error());
    }
    auto process = spawn(
        *command, {.capture_output = true, .new_process_group = true, .death_signal = SIGKILL});
    if (!process) {
      release_port(*dyno);
      co_return std::unexpected(process.error());
    }
    dyno->pid = process->pid;
    dyno->running = true;
    dyno->started_at = std::chrono::system_clock::now();
    dyno->started_steady = SteadyClock::now();
    if (auto written =
            write_file_atomic(dyno->dir.string() + ".pid",
                              fmt::format("{} {}\n", dyno->pid, process_start_time(dyno->pid)));
        !written) {
      say("warning: {}: a daemon killed now would leave it running", written.error().message);
    }
    log(*dyno, fmt::format("Starting process with command `{}`{}", dyno->command,
                           dyno->port ? fmt::format(" on port {}", dyno->port) : ""));
    auto output = std::make_shared<asio::posix::stream_descriptor>(m_io, process->output_fd);
    auto pidfd = std::make_shared<asio::posix::stream_descriptor>(m_io, process->pidfd);
    asio::co_spawn(m_io, read_output(dyno, output), asio::detached);
    asio::co_spawn(m_io, wait_exit(dyno, pidfd, process->pid), asio::detached);
    if (dyno->cgroups && dyno->cgroups->memory) {
      if (auto events = dyno->cgroups->memory->oom_events()) {
        auto watched = std::make_shared<asio::posix::stream_descriptor>(m_io, events->release());
        asio::co_spawn(m_io, watch_memory(dyno, process->pid, watched), asio::detached);
      }
    }
    co_return Expected<void>();
  }

  // Heroku's R15: a dyno past its memory quota is killed (the kernel has already killed
  // one of its processes) and restarted like any crash.
  awaitable<void> watch_memory(DynoPtr dyno, int pid,
                               std::shared_ptr<asio::posix::stream_descriptor> events) {
    boost::system::error_code error;
    co_await events->async_wait(asio::posix::descriptor_base::wait_read,
                                asio::redirect_error(use_awaitable, error));
    if (error || !dyno->running || dyno->pid != pid) {
      co_return;
    }
    dyno->kill_reason = fmt::format("Error R15 (Memory quota exceeded): a process of {} went "
                                    "past [runtime] memory ({}) and was killed",
                                    dyno->name(), format_size(m_config.runtime.memory));
    log(*dyno, dyno->kill_reason);
    signal_dyno(*dyno, SIGKILL);
  }

  void release_port(Dyno& dyno) {
    if (dyno.port != 0) {
      m_ports.release(dyno.port);
      dyno.port = 0;
    }
  }

  awaitable<void> read_output(DynoPtr dyno, std::shared_ptr<asio::posix::stream_descriptor> pipe) {
    std::string source = fmt::format("app[{}]", dyno->name());
    std::string pending;
    std::array<char, 16384> buffer{};
    std::shared_ptr<AppLog> keep = state(dyno->app).log;
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
        start = newline + 1;
      }
      pending.erase(0, start);
      if (pending.size() > 16384) {
        app_log.append(source, pending);
        pending.clear();
      }
      if (error) {
        break;
      }
    }
    if (!pending.empty()) {
      app_log.append(source, pending);
    }
  }

  awaitable<void> wait_exit(DynoPtr dyno, std::shared_ptr<asio::posix::stream_descriptor> pidfd,
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
                                      dyno->name(), format_size(m_config.runtime.memory));
      log(*dyno, dyno->kill_reason);
    }
    dyno->exit_reason = dyno->kill_reason.empty()
                            ? dyno->last_exit.describe()
                            : fmt::format("was killed: {}", dyno->kill_reason);
    log(*dyno, fmt::format("Process {}", dyno->last_exit.describe()));
    std::error_code ec;
    fs::remove(dyno->dir.string() + ".pid", ec);
    remove_later(dyno->dir, std::move(dyno->cgroups));
    bool was_routed = dyno->web() && dyno->state == DynoState::up;
    release_port(*dyno);
    if (!dyno->wanted || m_stopping) {
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
      asio::co_spawn(m_io, update_router_logged(), asio::detached);
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
    if (!cancelled && dyno->wanted && !m_stopping) {
      co_await bring_up(dyno);
    }
  }

  // Sends `signal` to every process of the dyno. Inside bubblewrap the app runs in its own
  // session below bwrap, so the processes are found by walking the tree; killing bwrap
  // itself would SIGKILL the sandbox at once, so SIGTERM spares it.
  void signal_dyno(const Dyno& dyno, int signal_number) {
    if (!dyno.running || dyno.pid <= 0) {
      return;
    }
    for (int pid : descendant_pids(dyno.pid)) {
      kill(pid, signal_number);
    }
    if (signal_number == SIGKILL || m_config.build.sandbox == SandboxMode::none) {
      killpg(dyno.pid, signal_number);
    }
  }

  awaitable<void> stop(DynoPtr dyno) {
    dyno->wanted = false;
    dyno->restart_timer.cancel();
    if (!dyno->running) {
      set_state(*dyno, DynoState::down);
      co_return;
    }
    set_state(*dyno, DynoState::stopping);
    log(*dyno, "Stopping all processes with SIGTERM");
    signal_dyno(*dyno, SIGTERM);
    auto deadline = SteadyClock::now() + m_config.runtime.stop_grace;
    while (dyno->running && SteadyClock::now() < deadline) {
      co_await sleep_for(k_poll);
    }
    if (dyno->running) {
      log(*dyno, fmt::format("Error R12 (Exit timeout) -> still running {} after SIGTERM: "
                             "SIGKILL",
                             format_duration(m_config.runtime.stop_grace)));
      signal_dyno(*dyno, SIGKILL);
      while (dyno->running) {
        co_await sleep_for(k_poll);
      }
    }
  }

  // Until the dyno's web process answers its health check, or why not.
  awaitable<Expected<void>> wait_healthy(DynoPtr dyno, const HealthCheck& check,
                                         const std::string& host) {
    auto deadline = SteadyClock::now() + m_config.runtime.health_timeout;
    const int port = dyno->port; // given back when the process exits
    std::string last = "nothing listened on it";
    while (true) {
      if (!dyno->running) {
        co_return fail("{} {} before it answered on port {}", dyno->name(), dyno->exit_reason,
                       port);
      }
      HttpAnswer answer = co_await http_get_tcp(port, host, check.path, k_probe_timeout);
      auto verdict = judge_health(check, answer);
      if (verdict.healthy) {
        co_return Expected<void>();
      }
      if (!verdict.why.empty()) {
        last = verdict.why;
      }
      if (SteadyClock::now() >= deadline) {
        break;
      }
      co_await sleep_for(milliseconds(50));
    }
    co_return fail("{} did not pass its health check on port {} within {} ({})", dyno->name(), port,
                   format_duration(m_config.runtime.health_timeout), last);
  }

  // Starts the dyno outside an activation (daemon start, scaling, a crash's restart): a web
  // process joins the router once healthy; one that never gets healthy is killed and
  // restarted as a crash.
  awaitable<void> bring_up(DynoPtr dyno) {
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
    AppState& app = state(dyno->app);
    auto healthy = co_await wait_healthy(dyno, app.health, app.hosts.front());
    if (!dyno->wanted || !dyno->running) {
      co_return;
    }
    if (!healthy) {
      log(*dyno, healthy.error().message);
      signal_dyno(*dyno, SIGKILL); // its exit counts as a crash and restarts it
      co_return;
    }
    set_state(*dyno, DynoState::up);
    co_await update_router_logged();
  }

  // ---------------------------------------------------------------- the router

  std::vector<Route> routes() {
    std::vector<Route> routes;
    for (auto& [name, app] : m_apps) {
      if (app.hosts.empty()) {
        continue;
      }
      Route route{.app = name, .hosts = app.hosts};
      for (const auto& dyno : app.dynos) {
        if (dyno->web() && dyno->state == DynoState::up && dyno->running) {
          route.ports.push_back(dyno->port);
        }
      }
      routes.push_back(std::move(route));
    }
    return routes;
  }

  awaitable<Expected<void>> start_nginx() {
    std::error_code ec;
    for (const char* dir : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
      fs::create_directories(m_router.prefix / dir, ec);
    }
    long generation = ++m_generation;
    if (auto written = write_file_atomic(m_router.config(),
                                         nginx_config(m_config, m_router, routes(), generation));
        !written) {
      co_return written;
    }
    fs::remove(m_router.control_socket(), ec);
    std::string nginx = fs::exists("/usr/sbin/nginx", ec) ? "/usr/sbin/nginx" : "nginx";
    Command command{.argv = {nginx, "-p", m_router.prefix.string(), "-c",
                             m_router.config().string(), "-e", m_router.error_log().string()}};
    // nginx keeps the daemon's ambient capabilities: it may have to bind port 80.
    auto process = spawn(command, {.capture_output = true,
                                   .new_process_group = true,
                                   .death_signal = SIGTERM,
                                   .keep_capabilities = true});
    if (!process) {
      co_return std::unexpected(process.error());
    }
    m_nginx_pid = process->pid;
    m_nginx_start = process_start_time(process->pid);
    m_nginx_running = true;
    if (auto written =
            write_file_atomic(nginx_record(), fmt::format("{} {}\n", m_nginx_pid, m_nginx_start));
        !written) {
      say("warning: {}: a daemon killed now would leave nginx running", written.error().message);
    }
    auto output = std::make_shared<asio::posix::stream_descriptor>(m_io, process->output_fd);
    auto pidfd = std::make_shared<asio::posix::stream_descriptor>(m_io, process->pidfd);
    asio::co_spawn(m_io, relay_nginx_output(output), asio::detached);
    asio::co_spawn(m_io, watch_nginx(pidfd, process->pid), asio::detached);
    auto reached = co_await wait_generation(generation);
    if (!reached) {
      co_return fail("nginx did not start: {} (see {})", reached.error().message,
                     m_router.error_log().string());
    }
    m_router_ready = true;
    say("router listening on {}:{}", m_config.server.http_address, m_config.server.http_port);
    co_return Expected<void>();
  }

  awaitable<void> relay_nginx_output(std::shared_ptr<asio::posix::stream_descriptor> pipe) {
    std::array<char, 4096> buffer{};
    std::string pending;
    while (true) {
      boost::system::error_code error;
      std::size_t n = co_await pipe->async_read_some(asio::buffer(buffer),
                                                     asio::redirect_error(use_awaitable, error));
      pending.append(buffer.data(), n);
      for (auto newline = pending.find('\n'); newline != std::string::npos;
           newline = pending.find('\n')) {
        say("nginx: {}", pending.substr(0, newline));
        pending.erase(0, newline + 1);
      }
      if (error) {
        co_return;
      }
    }
  }

  awaitable<void> watch_nginx(std::shared_ptr<asio::posix::stream_descriptor> pidfd, int pid) {
    boost::system::error_code error;
    co_await pidfd->async_wait(asio::posix::descriptor_base::wait_read,
                               asio::redirect_error(use_awaitable, error));
    int native_status = 0;
    while (waitpid(pid, &native_status, 0) < 0 && errno == EINTR) {
    }
    m_nginx_running = false;
    // A master killed with SIGKILL leaves its workers running, holding the port.
    if (auto killed = co_await kill_orphaned_workers(pid, m_nginx_start); !killed) {
      say("{}", killed.error().message);
    }
    if (m_stopping || !m_router_ready) {
      co_return; // stopping, or it never started: start_nginx reports that
    }
    say("nginx {}: starting it again", exit_status_of(native_status).describe());
    // Until it is back, backing off: a start that fails (the port still taken) ends with
    // the new nginx's exit, whose own watch tries again.
    while (true) {
      co_await sleep_for(m_nginx_backoff);
      m_nginx_backoff = std::min<milliseconds>(m_nginx_backoff * 2, k_max_nginx_delay);
      if (m_stopping) {
        co_return;
      }
      int before = m_nginx_pid;
      auto started = co_await start_nginx();
      if (started) {
        m_nginx_backoff = k_min_nginx_delay;
        co_await update_router_logged();
        co_return;
      }
      say("{}", started.error().message);
      if (m_nginx_pid != before) {
        co_return; // an nginx was started: its watch takes over
      }
    }
  }

  // kill_nginx_group, off the loop (see unpack() for why this is no coroutine).
  awaitable<Expected<void>> kill_orphaned_workers(int master, long start) {
    return off_loop([master, start]() -> Expected<void> {
      if (int left = kill_nginx_group(master, start); left > 0) {
        return fail("{} nginx workers of pid {} would not die", left, master);
      }
      return {};
    });
  }

  awaitable<Expected<void>> wait_generation(long generation) {
    auto deadline = SteadyClock::now() + k_router_timeout;
    std::string problem = "no answer";
    while (SteadyClock::now() < deadline && m_nginx_running) {
      HttpAnswer answer =
          co_await http_get_unix(m_router.control_socket(), "/generation", k_probe_timeout);
      long seen = 0;
      if (answer.status == 200) {
        std::from_chars(answer.body.data(), answer.body.data() + answer.body.size(), seen);
        if (seen >= generation) {
          co_return Expected<void>();
        }
        problem = fmt::format("it still serves configuration {}", seen);
      } else if (!answer.problem.empty()) {
        problem = answer.problem;
      }
      co_await sleep_for(milliseconds(10));
    }
    co_return fail("{}", m_nginx_running ? problem : "nginx exited");
  }

  // Writes the configuration for the routes as they are now and reloads nginx gracefully;
  // returns once nginx answers with it. The old workers finish their requests meanwhile.
  awaitable<Expected<void>> update_router() {
    long generation = ++m_generation;
    if (auto written = write_file_atomic(m_router.config(),
                                         nginx_config(m_config, m_router, routes(), generation));
        !written) {
      co_return written;
    }
    if (!m_nginx_running) {
      co_return fail("nginx is not running");
    }
    std::vector<int> before = descendant_pids(m_nginx_pid);
    m_old_workers.insert(before.begin(), before.end());
    kill(m_nginx_pid, SIGHUP);
    auto reached = co_await wait_generation(generation);
    if (!reached) {
      co_return fail("nginx did not load the new configuration: {} (see {})",
                     reached.error().message, m_router.error_log().string());
    }
    // A new worker answers; an old one may still accept a new connection for a few ms, until
    // it gets the master's QUIT, retitles itself "shutting down" and closes its listeners.
    auto deadline = SteadyClock::now() + milliseconds(2000);
    while (SteadyClock::now() < deadline && std::ranges::any_of(before, still_listening)) {
      co_await sleep_for(milliseconds(2));
    }
    co_return Expected<void>();
  }

  // An nginx worker that has not begun its graceful shutdown (so still takes connections).
  static bool still_listening(int pid) {
    auto title = read_file(fmt::format("/proc/{}/cmdline", pid));
    return title && title->find("worker process") != std::string::npos &&
           title->find("shutting down") == std::string::npos;
  }

  awaitable<void> update_router_logged() {
    if (auto updated = co_await update_router(); !updated) {
      say("{}", updated.error().message);
    }
  }

  // Once the nginx workers that served before the last switch are gone (they finish their
  // requests first), stops the processes they may have been talking to.
  awaitable<void> retire(std::vector<DynoPtr> dynos) {
    for (const auto& dyno : dynos) {
      dyno->wanted = false;
      dyno->restart_timer.cancel();
      set_state(*dyno, DynoState::stopping);
      m_retiring.push_back(dyno);
    }
    auto deadline = SteadyClock::now() + m_config.runtime.stop_grace;
    while (SteadyClock::now() < deadline) {
      std::erase_if(m_old_workers, [](int pid) {
        return kill(pid, 0) != 0 || !fs::exists(fmt::format("/proc/{}/status", pid));
      });
      if (m_old_workers.empty()) {
        break;
      }
      co_await sleep_for(k_poll);
    }
    for (const auto& dyno : dynos) {
      co_await stop(dyno);
    }
    std::erase_if(m_retiring, [&](const DynoPtr& dyno) {
      return std::ranges::find(dynos, dyno) != dynos.end();
    });
  }

  // ---------------------------------------------------------------- requests

  // The answer to one request, on its connection. Shared by the request's work and its
  // heartbeat, so neither outlives what it writes to.
  class Reply {
   public:
    explicit Reply(asio::local::stream_protocol::socket socket) : m_socket(std::move(socket)) {}

    asio::local::stream_protocol::socket& socket() { return m_socket; }
    // After the last line: nothing more is written, whoever asks.
    void close() { m_closed = true; }
    bool closed() const { return m_closed; }

    awaitable<void> output(std::string text) {
      json message; // (g++ 12 cannot co_await a call with a braced json argument)
      message["output"] = std::move(text);
      co_await send(message);
    }
    awaitable<void> send(const json& message) {
      // One write at a time: the heartbeat and the work share the socket.
      while (m_writing) {
        co_await sleep_for(milliseconds(1));
      }
      if (m_gone || m_closed) {
        co_return; // the caller went away; the work goes on
      }
      std::string line = message.dump() + "\n";
      boost::system::error_code error;
      m_writing = true;
      co_await asio::async_write(m_socket, asio::buffer(line),
                                 asio::redirect_error(use_awaitable, error));
      m_writing = false;
      m_gone = static_cast<bool>(error);
    }
    // Whether the caller hung up: it sends nothing after its request, so a readable end of
    // file is its close.
    bool caller_gone() {
      char byte = 0;
      ssize_t n = ::recv(m_socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      m_gone = m_gone || n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
      return m_gone;
    }

   private:
    asio::local::stream_protocol::socket m_socket;
    bool m_gone = false;
    bool m_writing = false;
    bool m_closed = false;
  };

  // While a request is worked on, {"alive": true} every k_heartbeat_every: the caller's
  // deadline counts silence, so long work (a big unpack) is no timeout, and a stopped or
  // hung daemon is one.
  awaitable<void> heartbeat(std::shared_ptr<Reply> reply) {
    while (true) {
      co_await sleep_for(k_heartbeat_every);
      if (reply->closed()) {
        co_return;
      }
      json alive;
      alive["alive"] = true;
      co_await reply->send(alive);
    }
  }

  awaitable<void> accept_loop() {
    while (!m_stopping) {
      boost::system::error_code error;
      auto socket = co_await m_acceptor.async_accept(asio::redirect_error(use_awaitable, error));
      if (error) {
        if (m_stopping) {
          co_return;
        }
        co_await sleep_for(milliseconds(100));
        continue;
      }
      asio::co_spawn(m_io, serve(std::move(socket)), asio::detached);
    }
  }

  awaitable<void> serve(asio::local::stream_protocol::socket socket) {
    auto reply = std::make_shared<Reply>(std::move(socket));
    asio::streambuf buffer(k_max_request);
    boost::system::error_code error;
    co_await asio::async_read_until(reply->socket(), buffer, '\n',
                                    asio::redirect_error(use_awaitable, error));
    if (error) {
      json message;
      message["error"] = "the request must be one line of JSON of at most 64 KiB";
      co_await reply->send(message);
      reply->close();
      co_return;
    }
    std::string line(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
    json request = json::parse(line, nullptr, false);
    asio::co_spawn(m_io, heartbeat(reply), asio::detached);
    Expected<json> result = co_await dispatch(request, *reply);
    json message;
    if (result) {
      message["result"] = *result;
    } else {
      message["error"] = result.error().message;
    }
    co_await reply->send(message);
    reply->close();
  }

  awaitable<Expected<json>> dispatch(const json& request, Reply& reply) {
    if (!request.is_object() || !request.contains("command") || !request["command"].is_string()) {
      co_return fail("malformed request: expected {{\"command\": ...}}");
    }
    std::string command = request["command"];
    if (command == "status") {
      co_return json{{"pid", getpid()}, {"apps", m_apps.size()}};
    }
    std::string app = request.value("app", "");
    if (!request.contains("app") || !request["app"].is_string() || !validate_app_name(app)) {
      co_return fail("malformed request: '{}' needs a valid \"app\"", command);
    }
    if (command == "activate") {
      if (!request.contains("version") || !request["version"].is_number_integer()) {
        co_return fail("malformed request: 'activate' needs a \"version\"");
      }
      std::optional<SystemClock::time_point> deadline;
      if (auto ms = request.find("deadline_ms"); ms != request.end() && ms->is_number_integer()) {
        deadline = SystemClock::time_point(milliseconds(ms->get<long>()));
      }
      co_return co_await activate(app, request["version"].get<int>(), deadline, reply);
    }
    if (command == "deactivate") {
      co_return co_await deactivate(app);
    }
    if (command == "sync") {
      co_return co_await sync(app, reply);
    }
    if (command == "restart") {
      co_return co_await restart(app, request.value("type", ""), reply);
    }
    if (command == "ps") {
      co_return ps(app);
    }
    co_return fail("unknown command '{}'", command);
  }

  // Starts vN beside the live release, and switches to it only if it is healthy and the
  // caller still waits for it (connected, before its deadline).
  awaitable<Expected<json>> activate(const std::string& name, int version,
                                     std::optional<SystemClock::time_point> deadline,
                                     Reply& reply) {
    if (auto exists = require_app(m_layout, name); !exists) {
      co_return std::unexpected(exists.error());
    }
    auto guard = co_await claim(name);
    auto record = ReleaseStore(m_layout, name).get(version);
    if (!record) {
      co_return std::unexpected(record.error());
    }
    AppState& app = state(name);
    refresh_settings(name, app);
    if (app.release && app.release->version == version && !app.dynos.empty()) {
      // Already running it (`current` is being repaired): only the link moves.
      if (auto moved = ReleaseStore(m_layout, name).activate(version); !moved) {
        co_return std::unexpected(moved.error());
      }
      co_return json{{"web", 0}, {"health_ms", 0}, {"switch_ms", 0}};
    }
    auto release = std::make_shared<const Release>(std::move(*record));
    if (!release->has_slug()) {
      // Config vars set before the first build: nothing to run. Whatever ran before (a
      // push rolled back to this) stops, and the host answers 503.
      std::vector<DynoPtr> old = std::move(app.dynos);
      app.dynos.clear();
      app.release = release;
      co_await update_router_logged();
      if (auto moved = ReleaseStore(m_layout, name).activate(version); !moved) {
        co_return std::unexpected(moved.error());
      }
      asio::co_spawn(m_io, retire(std::move(old)), asio::detached);
      co_return json{{"web", 0}, {"health_ms", 0}, {"switch_ms", 0}};
    }
    auto unpacked = co_await unpack(name, *release);
    if (!unpacked) {
      co_return std::unexpected(unpacked.error());
    }
    auto health = web_health_check(m_layout.unpacked_dir(name, version));
    if (!health) {
      co_return std::unexpected(health.error());
    }
    auto started = SteadyClock::now();
    std::vector<DynoPtr> fresh;
    Expected<void> outcome;
    for (auto& [type, count] : formation(name, *release)) {
      for (int index = 1; index <= count && outcome; ++index) {
        auto dyno = make_dyno(name, release, type, index);
        dyno->probation = true;
        fresh.push_back(dyno);
        outcome = co_await launch(dyno);
      }
    }
    for (const auto& dyno : fresh) {
      if (!outcome) {
        break;
      }
      if (dyno->web()) {
        outcome = co_await wait_healthy(dyno, *health, app.hosts.front());
        if (outcome) {
          co_await reply.output(
              detail_line(fmt::format("{} answered on port {} after {}", dyno->name(), dyno->port,
                                      seconds_text(SteadyClock::now() - started))));
        }
      } else if (!dyno->running) {
        outcome = fail("{} {} at once", dyno->name(), dyno->exit_reason);
      }
    }
    long health_ms = elapsed_ms(started);
    if (outcome && (reply.caller_gone() || (deadline && SystemClock::now() > *deadline))) {
      outcome = fail("the caller stopped waiting before v{} was switched to", version);
    }
    if (!outcome) {
      app.log->append("slipway[api]", fmt::format("Release v{} failed its launch: {}", version,
                                                  outcome.error().message));
      for (const auto& dyno : fresh) {
        co_await stop(dyno);
      }
      co_return std::unexpected(outcome.error());
    }
    // Healthy: the new processes take the traffic, then `current` moves.
    for (const auto& dyno : fresh) {
      dyno->probation = false;
      set_state(*dyno, DynoState::up);
    }
    std::vector<DynoPtr> old = std::move(app.dynos);
    auto old_release = app.release;
    auto old_health = app.health;
    app.dynos = fresh;
    app.release = release;
    app.health = *health;
    auto switching = SteadyClock::now();
    Expected<void> routed = co_await update_router();
    // The caller may have hung up while nginx reloaded: then `current` must not move.
    if (routed && (reply.caller_gone() || (deadline && SystemClock::now() > *deadline))) {
      routed = fail("the caller stopped waiting before v{} was switched to", version);
    }
    if (!routed) {
      app.dynos = std::move(old);
      app.release = old_release;
      app.health = old_health;
      co_await update_router_logged();
      for (const auto& dyno : fresh) {
        co_await stop(dyno);
      }
      co_return std::unexpected(routed.error());
    }
    long switch_ms = elapsed_ms(switching);
    long web = std::ranges::count_if(fresh, [](const DynoPtr& dyno) { return dyno->web(); });
    if (auto moved = ReleaseStore(m_layout, name).activate(version); !moved) {
      say("{}: {}", name, moved.error().message);
    }
    app.log->append("slipway[router]",
                    fmt::format("Routing {} to v{} ({} web processes), switched in {} ms",
                                app.hosts.front(), version, web, switch_ms));
    asio::co_spawn(m_io, retire(std::move(old)), asio::detached);
    co_return json{{"web", web}, {"health_ms", health_ms}, {"switch_ms", switch_ms}};
  }

  // Nothing of the app is live any more: its processes stop, its host answers 503, and
  // `current` goes (a first release whose push never completed).
  awaitable<Expected<json>> deactivate(const std::string& name) {
    auto guard = co_await claim(name);
    AppState& app = state(name);
    auto dynos = std::move(app.dynos);
    app.dynos.clear();
    app.release.reset();
    co_await update_router_logged();
    if (auto removed = ReleaseStore(m_layout, name).deactivate(); !removed) {
      co_return std::unexpected(removed.error());
    }
    app.log->append("slipway[router]", "No release is live: answering 503");
    asio::co_spawn(m_io, retire(std::move(dynos)), asio::detached);
    co_return json{{"deactivated", true}};
  }

  // Makes the app's processes match app.toml (formation, domains); stops everything of an
  // app that no longer exists.
  awaitable<Expected<json>> sync(const std::string& name, Reply&) {
    auto guard = co_await claim(name);
    AppState& app = state(name);
    if (!require_app(m_layout, name)) {
      auto dynos = std::move(app.dynos);
      app.hosts.clear();
      co_await update_router_logged();
      for (const auto& dyno : dynos) {
        co_await stop(dyno);
      }
      m_apps.erase(name);
      co_return json{{"removed", true}};
    }
    refresh_settings(name, app);
    std::vector<DynoPtr> surplus;
    if (app.release) {
      for (auto& [type, count] : formation(name, *app.release)) {
        for (int index = 1; index <= count; ++index) {
          bool present = std::ranges::any_of(app.dynos, [&](const DynoPtr& dyno) {
            return dyno->type == type && dyno->index == index;
          });
          if (!present) {
            auto dyno = make_dyno(name, app.release, type, index);
            app.dynos.push_back(dyno);
            asio::co_spawn(m_io, bring_up(dyno), asio::detached);
          }
        }
        std::erase_if(app.dynos, [&](const DynoPtr& dyno) {
          bool extra = dyno->type == type && dyno->index > count;
          if (extra) {
            surplus.push_back(dyno);
          }
          return extra;
        });
      }
    }
    auto routed = co_await update_router();
    asio::co_spawn(m_io, retire(std::move(surplus)), asio::detached);
    if (!routed) {
      co_return std::unexpected(routed.error());
    }
    co_return json{{"processes", app.dynos.size()}};
  }

  // Restarts the app's processes (of one type): web ones one at a time, each replaced by a
  // healthy new one before it stops, so a restart drops no request.
  awaitable<Expected<json>> restart(const std::string& name, const std::string& type,
                                    Reply& reply) {
    auto guard = co_await claim(name);
    AppState& app = state(name);
    refresh_settings(name, app);
    std::vector<DynoPtr> targets;
    for (const auto& dyno : app.dynos) {
      if (type.empty() || dyno->type == type) {
        targets.push_back(dyno);
      }
    }
    if (!type.empty() && targets.empty()) {
      co_return fail("{} has no {} processes", name, type);
    }
    int restarted = 0;
    for (const auto& old : targets) {
      auto replacement = make_dyno(name, old->release, old->type, old->index);
      if (!old->web()) {
        co_await stop(old);
        std::ranges::replace(app.dynos, old, replacement);
        asio::co_spawn(m_io, bring_up(replacement), asio::detached);
        ++restarted;
        continue;
      }
      replacement->probation = true;
      Expected<void> ready = co_await launch(replacement);
      if (ready) {
        ready = co_await wait_healthy(replacement, app.health, app.hosts.front());
      }
      if (!ready) {
        co_await stop(replacement);
        co_return fail("{} was not restarted: {}", old->name(), ready.error().message);
      }
      replacement->probation = false;
      set_state(*replacement, DynoState::up);
      std::ranges::replace(app.dynos, old, replacement);
      co_await update_router_logged();
      co_await reply.output(
          detail_line(fmt::format("{} restarted (pid {})", old->name(), replacement->pid)));
      asio::co_spawn(m_io, retire({old}), asio::detached);
      ++restarted;
    }
    co_return json{{"restarted", restarted}};
  }

  json ps(const std::string& name) {
    json list = json::array();
    auto it = m_apps.find(name);
    if (it == m_apps.end()) {
      return list;
    }
    std::vector<DynoPtr> shown = it->second.dynos;
    for (const auto& dyno : m_retiring) {
      if (dyno->app == name && dyno->running) {
        shown.push_back(dyno);
      }
    }
    for (const auto& dyno : shown) {
      json entry{{"name", dyno->name()},
                 {"type", dyno->type},
                 {"state", to_string(dyno->state)},
                 {"release", dyno->release->version},
                 {"command", dyno->command},
                 {"crashes", dyno->crashes}};
      if (dyno->running) {
        entry["pid"] = dyno->pid;
        entry["started_at"] = format_time(dyno->started_at);
        entry["uptime_seconds"] = elapsed_ms(dyno->started_steady) / 1000;
      }
      if (dyno->port != 0) {
        entry["port"] = dyno->port;
      }
      list.push_back(entry);
    }
    return list;
  }

  Layout m_layout;
  Config m_config;
  asio::io_context m_io;
  asio::thread_pool m_pool{2};
  asio::signal_set m_signals;
  asio::local::stream_protocol::acceptor m_acceptor;
  std::optional<FileLock> m_lock;
  RouterFiles m_router;
  std::map<std::string, AppState> m_apps;
  std::vector<DynoPtr> m_retiring;
  PortPool m_ports;
  long m_runs = 0;
  long m_generation = 0;
  int m_nginx_pid = -1;
  long m_nginx_start = -1;
  milliseconds m_nginx_backoff = k_min_nginx_delay;
  bool m_nginx_running = false;
  bool m_router_ready = false;
  std::set<int> m_old_workers;
  bool m_stopping = false;
  std::string m_failure;
};

} // namespace

Expected<void> run_daemon(const Layout& layout) {
  if (auto root = check_root(layout); !root) {
    return root;
  }
  auto config = layout.config();
  if (!config) {
    return std::unexpected(config.error());
  }
  signal(SIGPIPE, SIG_IGN);
  Daemon daemon(layout, std::move(*config));
  return daemon.run();
}

} // namespace slipway
