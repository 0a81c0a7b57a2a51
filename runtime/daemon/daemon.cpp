// The daemon as a whole: its lock and pid file, what a killed daemon left, the order things
// start and stop in, and the sweep for what interrupted operations left.
#include "runtime/daemon.hpp"

#include <signal.h>
#include <unistd.h>

#include "common/cgroup.hpp"
#include "common/file_lock.hpp"
#include "common/files.hpp"
#include "common/paths.hpp"
#include "runtime/apps.hpp"
#include "runtime/daemon/apps.hpp"
#include "runtime/daemon/context.hpp"
#include "runtime/daemon/control_server.hpp"
#include "runtime/daemon/event_bus.hpp"
#include "runtime/daemon/nginx.hpp"
#include "runtime/daemon/reconciler.hpp"
#include "runtime/daemon/supervisor.hpp"
#include "runtime/operation.hpp"

namespace slipway {

namespace daemon {

namespace {

namespace fs = std::filesystem;

// How often apps are checked for what an interrupted operation left, and for processes
// past their disk budget.
constexpr milliseconds k_sweep_every{1000};
constexpr auto k_settle_again_after = std::chrono::seconds(3);
constexpr long k_disk_check_rounds = 5; // of the sweep: every 5s
// Of the sweep, every 5 minutes: review apps idle past their pipeline's --stale-days, and
// those whose creation was cut short, are destroyed (ops/review_apps.hpp) by a process of
// its own, off the loop.
constexpr long k_review_sweep_rounds = 300;

class Daemon {
 public:
  Daemon(const Layout& layout, Config config, std::vector<DaemonService> services,
         std::unique_ptr<ClusterEngine> cluster, std::string cluster_problem)
      : m_context(layout, std::move(config)), m_services(std::move(services)),
        m_cluster(std::move(cluster)), m_signals(m_context.io, SIGTERM, SIGINT),
        m_nginx(m_context, [this] { return m_apps.routes(); }),
        m_supervisor(m_context, m_nginx,
                     [this](const std::string& app) { return m_apps.health_target(app); }),
        m_apps(m_context, m_supervisor, m_nginx, m_cluster.get(), std::move(cluster_problem)),
        m_control(m_context, m_apps),
        m_events(m_context.io, m_context.layout,
                 [this](const std::string& warning) { m_context.say("warning: {}", warning); }) {}

  Expected<void> run() {
    TRY(prepare());
    m_context.say("slipway daemon {} serving {} (pid {})", "0.1.0",
                  m_context.layout.root().string(), getpid());
    m_signals.async_wait([this](const boost::system::error_code& error, int signal_number) {
      if (!error) {
        m_context.say("received signal {}: stopping every process", signal_number);
        asio::co_spawn(m_context.io, shutdown(), asio::detached);
      }
    });
    asio::co_spawn(m_context.io, main(), [this](std::exception_ptr error) {
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          m_failure = e.what();
        }
        m_context.io.stop();
      }
    });
    m_context.io.run();
    stop_services(); // when the loop ended otherwise than by shutdown()
    m_context.pool.join();
    std::error_code ec;
    fs::remove(m_context.layout.daemon_socket(), ec);
    fs::remove(m_context.layout.daemon_pid_file(), ec);
    if (!m_failure.empty()) {
      return fail("{}", m_failure);
    }
    m_context.say("stopped");
    return {};
  }

 private:
  Expected<void> prepare() {
    const Layout& layout = m_context.layout;
    std::error_code ec;
    fs::create_directories(layout.run_dir(), ec);
    auto lock = TRY(FileLock::try_acquire(layout.daemon_lock(), FileLock::Mode::exclusive));
    if (!lock) {
      return fail("a slipway daemon is already running for {}", layout.root().string());
    }
    m_lock.emplace(std::move(*lock));
    // What the next daemon reads to stop what this one leaves if it is killed.
    TRY(write_file_atomic(layout.daemon_pid_file(), fmt::format("{}\n", getpid())));
    m_supervisor.kill_leftovers();
    m_nginx.kill_leftover();
    remove_stale_cgroups(layout.id());
    fs::remove_all(layout.dynos_dir(), ec);
    fs::create_directories(layout.dynos_dir(), ec);
    fs::create_directories(layout.nginx_dir(), ec);
    if (auto subscribed = m_events.subscribe(reconciler(m_apps)); !subscribed) {
      m_context.say("warning: {}: changes are applied only when a command asks",
                    subscribed.error().message);
    }
    // The socket last: a client that can connect finds a daemon ready for it.
    TRY(m_control.listen());
    for (auto& service : m_services) {
      if (auto started = service.start(m_context.config); !started) {
        stop_services();
        return prefixed(started.error(), service.name);
      }
      ++m_started_services;
    }
    return {};
  }

  void stop_services() {
    for (std::size_t i = m_started_services; i-- > 0;) {
      m_services[i].stop();
    }
    m_started_services = 0;
  }

  awaitable<void> main() {
    // Every app is in nginx's first configuration: until its processes pass their health
    // checks it answers 503 (starting), not 404 (no such app).
    for (const auto& app : list_apps(m_context.layout)) {
      m_apps.refresh_settings(app, m_apps.state(app));
      co_await m_apps.adopt_cluster(app);
    }
    if (auto started = co_await m_nginx.start(); !started) {
      throw std::runtime_error(started.error().message);
    }
    asio::co_spawn(m_context.io, m_control.accept_loop(), asio::detached);
    for (const auto& app : list_apps(m_context.layout)) {
      co_await m_apps.load(app);
    }
    co_await m_nginx.update_logged();
    // Each subscriber resumes after its cursor; what changed while the daemon was down is
    // loaded already, so handling those events again costs a check.
    m_events.start();
    asio::co_spawn(m_context.io, sweep(), asio::detached);
    asio::co_spawn(m_context.io, m_apps.watch_cluster(), asio::detached);
  }

  // Every k_sweep_every: apps that an interrupted operation left unsettled (a push in flight
  // whose client is gone, a pending release, a damaged `current`, scratch dirs of a killed
  // build) get `slipway housekeep`, which settles and cleans them; processes past their disk
  // budget are restarted.
  awaitable<void> sweep() {
    for (long round = 1; !m_context.stopping; ++round) {
      co_await sleep_for(k_sweep_every);
      if (m_context.stopping) {
        break;
      }
      for (const auto& name : list_apps(m_context.layout)) {
        settle_if_needed(name);
      }
      if (round % k_disk_check_rounds == 0) {
        co_await m_supervisor.check_disk_budgets(m_apps.dynos(false));
      }
      if (round % k_review_sweep_rounds == 0) {
        auto started = spawn_detached({self_executable().string(), "--root",
                                       m_context.layout.root().string(), "reviewapps:sweep"});
        if (!started) {
          m_context.say("review apps: {}", started.error().message);
        }
      }
    }
  }

  void settle_if_needed(const std::string& name) {
    const Layout& layout = m_context.layout;
    AppState& app = m_apps.state(name);
    if (SteadyClock::now() - app.settled_at < k_settle_again_after) {
      return;
    }
    std::error_code ec;
    bool leftovers = !fs::is_empty(layout.tmp_dir(name), ec) && !ec;
    if (!leftovers && !needs_settling(layout, name)) {
      return;
    }
    // Only when no operation runs: an operation settles the app itself when it begins.
    auto free = FileLock::try_acquire(layout.lock_file(name), FileLock::Mode::exclusive);
    if (!free || !*free) {
      return;
    }
    free->reset();
    app.settled_at = SteadyClock::now();
    if (!leftovers || needs_settling(layout, name)) {
      m_context.say("{}: settling what an interrupted operation left", name);
    }
    auto started = spawn_detached(
        {self_executable().string(), "--root", layout.root().string(), "housekeep", "-a", name});
    if (!started) {
      m_context.say("{}: {}", name, started.error().message);
    }
  }

  awaitable<void> shutdown() {
    m_context.stopping = true;
    stop_services();
    m_control.close();
    m_events.stop();
    std::vector<DynoPtr> all = m_apps.dynos(true);
    for (const auto& dyno : all) {
      asio::co_spawn(m_context.io, m_supervisor.stop(dyno), asio::detached);
    }
    while (std::ranges::any_of(all, [](const DynoPtr& dyno) { return dyno->running; })) {
      co_await sleep_for(k_poll);
    }
    co_await m_nginx.stop();
    m_context.io.stop();
  }

  Context m_context;
  std::vector<DaemonService> m_services;
  std::unique_ptr<ClusterEngine> m_cluster;
  std::size_t m_started_services = 0;
  asio::signal_set m_signals;
  std::optional<FileLock> m_lock;
  Nginx m_nginx;
  Supervisor m_supervisor;
  Apps m_apps;
  ControlServer m_control;
  EventBus m_events;
  std::string m_failure;
};

} // namespace

} // namespace daemon

Expected<void> run_daemon(const Layout& layout, std::vector<DaemonService> services,
                          ClusterEngineFactory cluster) {
  TRY(check_root(layout));
  auto config = TRY(layout.config());
  signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<ClusterEngine> engine;
  std::string problem = "the daemon was started without a cluster engine";
  if (cluster) {
    if (auto made = cluster(layout, config)) {
      engine = std::move(*made);
    } else {
      problem = made.error().message;
    }
  }
  daemon::Daemon server(layout, std::move(config), std::move(services), std::move(engine),
                        std::move(problem));
  return server.run();
}

} // namespace slipway
