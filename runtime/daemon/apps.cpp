#include "runtime/daemon/apps.hpp"

#include <algorithm>

#include "common/output.hpp"
#include "runtime/apps.hpp"
#include "runtime/dyno.hpp"
#include "runtime/release_store.hpp"

namespace slipway::daemon {

Apps::Apps(Context& context, Supervisor& supervisor, Nginx& nginx, ClusterEngine* cluster,
           std::string cluster_problem)
    : m_context(context), m_supervisor(supervisor), m_nginx(nginx),
      m_cluster(cluster ? std::make_unique<ClusterCalls>(context, *cluster) : nullptr),
      m_cluster_problem(std::move(cluster_problem)) {}

AppState& Apps::state(const std::string& name) {
  AppState& app = m_apps[name];
  if (!app.log) {
    app.log =
        std::make_shared<AppLog>(m_context.layout.log_dir(name), m_context.config.runtime.log_size);
  }
  return app;
}

void Apps::refresh_settings(const std::string& name, AppState& app) {
  app.hosts = {app_host(m_context.config, name)};
  // An app.toml that cannot be read leaves maintenance mode as it was: whoever turned it on
  // had a reason (a migration) that a damaged file does not end.
  if (auto info = app_info(m_context.layout, name)) {
    app.hosts.insert(app.hosts.end(), info->domains.begin(), info->domains.end());
    app.maintenance = info->maintenance;
  }
}

std::vector<Route> Apps::routes() {
  std::vector<Route> routes;
  for (auto& [name, app] : m_apps) {
    if (app.hosts.empty()) {
      continue;
    }
    Route route{.app = name, .hosts = app.hosts, .maintenance = app.maintenance};
    if (app.engine == Engine::swarm) {
      route.upstreams = app.upstreams;
    }
    for (const auto& dyno : app.dynos) {
      if (dyno->web() && dyno->state == DynoState::up && dyno->running) {
        route.upstreams.push_back(fmt::format("127.0.0.1:{}", dyno->port));
      }
    }
    routes.push_back(std::move(route));
  }
  return routes;
}

HealthTarget Apps::health_target(const std::string& name) {
  AppState& app = state(name);
  if (app.hosts.empty()) {
    refresh_settings(name, app);
  }
  return {.check = app.health.startup, .host = app.hosts.front()};
}

std::vector<DynoPtr> Apps::dynos(bool retiring) const {
  std::vector<DynoPtr> all;
  for (const auto& [name, app] : m_apps) {
    all.insert(all.end(), app.dynos.begin(), app.dynos.end());
  }
  if (retiring) {
    all.insert(all.end(), m_retiring.begin(), m_retiring.end());
  }
  return all;
}

std::vector<std::pair<std::string, int>> Apps::formation(const std::string& name,
                                                         const Release& release) const {
  std::map<std::string, int> scale;
  if (auto info = app_info(m_context.layout, name)) {
    scale = info->formation;
  }
  return process_counts(scale, release.process_types);
}

awaitable<std::shared_ptr<void>> Apps::claim(const std::string& name) {
  while (state(name).busy) {
    co_await sleep_for(k_poll);
  }
  co_return busy_guard(name);
}

std::shared_ptr<void> Apps::busy_guard(const std::string& name) {
  state(name).busy = true;
  return std::shared_ptr<void>(nullptr, [this, name](void*) { state(name).busy = false; });
}

DynoPtr Apps::make_dyno(const std::string& name, std::shared_ptr<const Release> release,
                        const std::string& type, int index) {
  auto dyno = m_supervisor.make_dyno(name, std::move(release), type, index, state(name).log);
  dyno->liveness = state(name).health.liveness; // an activation sets the new release's
  return dyno;
}

// The closure is made in a plain function, not in a coroutine (see context.hpp).
awaitable<Expected<void>> Apps::unpack(const std::string& name, const Release& release) {
  return m_context.off_loop(
      [layout = m_context.layout, config = m_context.config, name, release]() -> Expected<void> {
        TRY(ensure_unpacked(layout, config, name, release));
        return {};
      });
}

awaitable<Expected<WebHealthChecks>> Apps::unpack_checks(const std::string& name,
                                                         const Release& release, long& unpack_ms) {
  auto unpacking = SteadyClock::now();
  if (auto unpacked = co_await unpack(name, release); !unpacked) {
    co_return std::unexpected(unpacked.error());
  }
  unpack_ms = elapsed_ms(unpacking);
  co_return web_health_checks(m_context.layout.unpacked_dir(name, release.version));
}

std::shared_ptr<const Release> Apps::live_release(const std::string& name) {
  auto live = ReleaseStore(m_context.layout, name).live();
  if (!live) {
    m_context.say("{}: {}", name, live.error().message);
    return nullptr;
  }
  if (!*live || !(*live)->has_slug()) {
    return nullptr;
  }
  return std::make_shared<const Release>(std::move(**live));
}

awaitable<void> Apps::load(const std::string& name) {
  auto guard = co_await claim(name); // a push may already be activating it
  co_await start_live(name);
}

awaitable<void> Apps::start_live(const std::string& name) {
  AppState& app = state(name);
  refresh_settings(name, app);
  if (wants_cluster(name)) {
    co_await start_live_cluster(name);
    co_return;
  }
  app.release = live_release(name);
  if (!app.release) {
    co_return;
  }
  if (auto unpacked = co_await unpack(name, *app.release); !unpacked) {
    app.log->append("slipway[api]", fmt::format("Cannot start v{}: {}", app.release->version,
                                                unpacked.error().message));
    m_context.say("{}: {}", name, unpacked.error().message);
    co_return;
  }
  auto health = web_health_checks(m_context.layout.unpacked_dir(name, app.release->version));
  if (health) {
    app.health = *health;
  }
  for (auto& [type, count] : formation(name, *app.release)) {
    for (int index = 1; index <= count; ++index) {
      auto dyno = make_dyno(name, app.release, type, index);
      app.dynos.push_back(dyno);
      asio::co_spawn(m_context.io, m_supervisor.bring_up(dyno), asio::detached);
    }
  }
}

awaitable<void> Apps::retire(std::vector<DynoPtr> dynos) {
  for (const auto& dyno : dynos) {
    dyno->wanted = false;
    dyno->restart_timer.cancel();
    m_supervisor.set_state(*dyno, DynoState::stopping);
    m_retiring.push_back(dyno);
  }
  co_await m_nginx.wait_old_workers(SteadyClock::now() + m_context.config.runtime.stop_grace);
  for (const auto& dyno : dynos) {
    co_await m_supervisor.stop(dyno);
  }
  std::erase_if(m_retiring,
                [&](const DynoPtr& dyno) { return std::ranges::find(dynos, dyno) != dynos.end(); });
}

awaitable<Expected<control::SyncResult>> Apps::sync(const std::string& name, bool reload) {
  auto guard = co_await claim(name);
  AppState& app = state(name);
  const std::vector<Route> before = routes();
  if (!require_app(m_context.layout, name)) {
    auto dynos = std::move(app.dynos);
    app.hosts.clear();
    std::vector<int> tasks =
        m_cluster ? co_await cluster_releases_but(name, 0) : std::vector<int>{};
    co_await m_nginx.update_logged();
    for (const auto& dyno : dynos) {
      co_await m_supervisor.stop(dyno);
    }
    co_await retire_cluster(name, std::move(tasks));
    m_apps.erase(name);
    co_return control::SyncResult{.removed = true};
  }
  if (app.release && app.release->has_slug() &&
      wants_cluster(name) != (app.engine == Engine::swarm)) {
    // Moved to the other engine: its live release starts there, and the router switches to
    // it once it is healthy; what ran before stops.
    NoCaller nobody;
    auto moved = co_await switch_to(name, app.release->version, std::nullopt, nobody, false, false);
    if (!moved) {
      co_return std::unexpected(moved.error());
    }
  }
  if (app.engine == Engine::swarm) {
    auto synced = co_await sync_cluster(name);
    if (!synced) {
      co_return std::unexpected(synced.error());
    }
  }
  if (!app.release && app.dynos.empty()) {
    // An app with a live release the daemon has not started (renamed while it ran) starts
    // as at the daemon's start.
    co_await start_live(name);
    reload = reload || app.release != nullptr;
  }
  refresh_settings(name, app);
  std::vector<DynoPtr> surplus;
  if (app.release && app.engine == Engine::local) {
    for (auto& [type, count] : formation(name, *app.release)) {
      for (int index = 1; index <= count; ++index) {
        bool present = std::ranges::any_of(app.dynos, [&](const DynoPtr& dyno) {
          return dyno->type == type && dyno->index == index;
        });
        if (!present) {
          auto dyno = make_dyno(name, app.release, type, index);
          app.dynos.push_back(dyno);
          asio::co_spawn(m_context.io, m_supervisor.bring_up(dyno), asio::detached);
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
  Expected<void> routed;
  if (reload || routes() != before) {
    routed = co_await m_nginx.update();
  }
  asio::co_spawn(m_context.io, retire(std::move(surplus)), asio::detached);
  if (!routed) {
    co_return std::unexpected(routed.error());
  }
  std::size_t processes = app.dynos.size();
  if (app.engine == Engine::swarm && app.release) {
    for (const auto& [type, count] : formation(name, *app.release)) {
      processes += count;
    }
  }
  co_return control::SyncResult{.processes = processes};
}

awaitable<Expected<control::RestartResult>>
Apps::restart(const std::string& name, const std::string& type, bool stop, Caller& caller) {
  auto guard = co_await claim(name);
  AppState& app = state(name);
  refresh_settings(name, app);
  if (app.engine == Engine::swarm && app.release && m_cluster) {
    co_return co_await restart_cluster(name, type, caller);
  }
  std::vector<DynoPtr> targets;
  for (const auto& dyno : app.dynos) {
    if (type.empty() || dyno->type == type || dyno->name() == type) {
      targets.push_back(dyno);
    }
  }
  if (!type.empty() && targets.empty()) {
    co_return fail("{} has no {} process{}", name, type,
                   type.find('.') == std::string::npos ? "es" : "");
  }
  int restarted = 0;
  for (const auto& old : targets) {
    auto replacement = make_dyno(name, old->release, old->type, old->index);
    if (!old->web() || stop) {
      co_await m_supervisor.stop(old);
      std::ranges::replace(app.dynos, old, replacement);
      asio::co_spawn(m_context.io, m_supervisor.bring_up(replacement), asio::detached);
      ++restarted;
      continue;
    }
    replacement->probation = true;
    Expected<void> ready = co_await m_supervisor.launch(replacement);
    if (ready) {
      ready = co_await m_supervisor.wait_healthy(replacement, health_target(name));
    }
    if (!ready) {
      co_await m_supervisor.stop(replacement);
      // What the replacement said before it failed, as a failed launch shows the pusher.
      for (auto& line : co_await m_supervisor.last_output(replacement)) {
        co_await caller.output(std::move(line));
      }
      co_return fail("{} was not restarted: {}", old->name(), ready.error().message);
    }
    replacement->probation = false;
    m_supervisor.set_state(*replacement, DynoState::up);
    std::ranges::replace(app.dynos, old, replacement);
    co_await m_nginx.update_logged();
    co_await caller.output(
        detail_line(fmt::format("{} restarted (pid {})", old->name(), replacement->pid)));
    asio::co_spawn(m_context.io, retire({old}), asio::detached);
    ++restarted;
  }
  co_return control::RestartResult{.restarted = restarted};
}

awaitable<std::vector<control::ProcessStatus>> Apps::ps(const std::string& name) {
  auto it = m_apps.find(name);
  if (it == m_apps.end()) {
    co_return std::vector<control::ProcessStatus>{};
  }
  if (it->second.engine == Engine::swarm && m_cluster) {
    co_return co_await cluster_ps(name);
  }
  std::vector<DynoPtr> shown = it->second.dynos;
  for (const auto& dyno : m_retiring) {
    if (dyno->app == name && dyno->running) {
      shown.push_back(dyno);
    }
  }
  std::vector<control::ProcessStatus> list;
  for (const auto& dyno : shown) {
    control::ProcessStatus entry{.name = dyno->name(),
                                 .type = dyno->type,
                                 .state = std::string(to_string(dyno->state)),
                                 .release = dyno->release->version,
                                 .command = dyno->command,
                                 .crashes = dyno->crashes};
    if (dyno->running) {
      entry.pid = dyno->pid;
      entry.started_at = format_time(dyno->started_at);
      entry.uptime_seconds = elapsed_ms(dyno->started_steady) / 1000;
    }
    if (dyno->port != 0) {
      entry.port = dyno->port;
    }
    list.push_back(std::move(entry));
  }
  co_return list;
}

} // namespace slipway::daemon
