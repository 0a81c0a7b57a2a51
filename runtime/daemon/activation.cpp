// Apps::activate and Apps::deactivate: switching what is live (apps.hpp).
#include "common/output.hpp"
#include "runtime/apps.hpp"
#include "runtime/daemon/apps.hpp"
#include "runtime/release_store.hpp"

namespace slipway::daemon {

// Coroutines cannot use TRY (it returns): errors are passed on with co_return.
awaitable<Expected<control::ActivateResult>>
Apps::activate(const std::string& name, int version,
               std::optional<SystemClock::time_point> deadline, Caller& caller,
               bool release_phase) {
  const Layout& layout = m_context.layout;
  if (auto exists = require_app(layout, name); !exists) {
    co_return std::unexpected(exists.error());
  }
  auto guard = co_await claim(name);
  co_return co_await switch_to(name, version, deadline, caller, true, release_phase);
}

awaitable<Expected<control::ActivateResult>>
Apps::switch_to(const std::string& name, int version,
                std::optional<SystemClock::time_point> deadline, Caller& caller, bool move_current,
                bool release_phase) {
  const Layout& layout = m_context.layout;
  auto record = ReleaseStore(layout, name).get(version);
  if (!record) {
    co_return std::unexpected(record.error());
  }
  AppState& app = state(name);
  refresh_settings(name, app);
  bool cluster = wants_cluster(name);
  bool running =
      app.release && app.release->version == version &&
      (cluster ? app.engine == Engine::swarm : app.engine == Engine::local && !app.dynos.empty());
  if (running) {
    // Already running it (`current` is being repaired): only the link moves.
    if (auto moved = move_current ? ReleaseStore(layout, name).activate(version) : Expected<void>();
        !moved) {
      co_return std::unexpected(moved.error());
    }
    co_return control::ActivateResult{};
  }
  auto release = std::make_shared<const Release>(std::move(*record));
  if (!release->has_slug()) {
    // Config vars set before the first build: nothing to run. Whatever ran before (a push
    // rolled back to this) stops, and the host answers 503.
    std::vector<DynoPtr> old = std::move(app.dynos);
    app.dynos.clear();
    app.upstreams.clear();
    app.release = release;
    std::vector<int> old_tasks =
        app.engine == Engine::swarm ? co_await cluster_releases_but(name, 0) : std::vector<int>{};
    app.engine = cluster ? Engine::swarm : Engine::local;
    co_await m_nginx.update_logged();
    if (auto moved = move_current ? ReleaseStore(layout, name).activate(version) : Expected<void>();
        !moved) {
      co_return std::unexpected(moved.error());
    }
    asio::co_spawn(m_context.io, retire(std::move(old)), asio::detached);
    asio::co_spawn(m_context.io, retire_cluster(name, std::move(old_tasks)), asio::detached);
    co_return control::ActivateResult{};
  }
  if (cluster) {
    co_return co_await switch_to_cluster(name, release, deadline, caller, move_current,
                                         release_phase);
  }
  control::ActivateResult result;
  auto health = co_await unpack_checks(name, *release, result.unpack_ms);
  if (!health) {
    co_return std::unexpected(health.error());
  }
  auto started = SteadyClock::now();
  std::vector<DynoPtr> fresh;
  Expected<void> outcome;
  DynoPtr culprit; // the process whose failure stopped the launch
  for (auto& [type, count] : formation(name, *release)) {
    for (int index = 1; index <= count && outcome; ++index) {
      auto dyno = make_dyno(name, release, type, index);
      dyno->liveness = health->liveness; // the new release's, not the live one's
      dyno->probation = true;
      fresh.push_back(dyno);
      outcome = co_await m_supervisor.launch(dyno);
      if (!outcome) {
        culprit = dyno;
      }
    }
  }
  result.start_ms = elapsed_ms(started);
  auto launched = SteadyClock::now();
  HealthTarget target{.check = health->startup, .host = app.hosts.front()};
  for (const auto& dyno : fresh) {
    if (!outcome) {
      break;
    }
    if (dyno->web()) {
      outcome = co_await m_supervisor.wait_healthy(dyno, target);
      if (!outcome) {
        culprit = dyno;
      } else {
        co_await caller.output(
            detail_line(fmt::format("{} answered on port {} after {}", dyno->name(), dyno->port,
                                    seconds_text(SteadyClock::now() - started))));
      }
    } else if (!dyno->running) {
      outcome = fail("{} {} at once", dyno->name(), dyno->exit_reason);
      culprit = dyno;
    }
  }
  result.health_ms = elapsed_ms(launched);
  if (outcome && (caller.gone() || (deadline && SystemClock::now() > *deadline))) {
    outcome = fail("the caller stopped waiting before v{} was switched to", version);
  }
  if (!outcome) {
    app.log->append("slipway[api]", fmt::format("Release v{} failed its launch: {}", version,
                                                outcome.error().message));
    for (const auto& dyno : fresh) {
      co_await m_supervisor.stop(dyno);
    }
    // What the process said before it failed: the pusher cannot read the app's log.
    if (culprit) {
      std::vector<std::string> lines = co_await m_supervisor.last_output(culprit);
      for (auto& line : lines) {
        co_await caller.output(std::move(line));
      }
    }
    co_return std::unexpected(outcome.error());
  }
  // Healthy: the new processes take the traffic, then `current` moves.
  for (const auto& dyno : fresh) {
    dyno->probation = false;
    m_supervisor.set_state(*dyno, DynoState::up);
  }
  // From the cluster: its tasks stop once nginx no longer sends them requests.
  std::vector<int> old_tasks =
      app.engine == Engine::swarm ? co_await cluster_releases_but(name, 0) : std::vector<int>{};
  std::vector<DynoPtr> old = std::move(app.dynos);
  auto old_release = app.release;
  auto old_health = app.health;
  auto old_engine = app.engine;
  auto old_upstreams = app.upstreams;
  app.dynos = fresh;
  app.release = release;
  app.health = *health;
  app.engine = Engine::local;
  app.upstreams.clear();
  auto switching = SteadyClock::now();
  Expected<void> routed = co_await m_nginx.update();
  // The caller may have hung up while nginx reloaded: then `current` must not move.
  if (routed && (caller.gone() || (deadline && SystemClock::now() > *deadline))) {
    routed = fail("the caller stopped waiting before v{} was switched to", version);
  }
  if (!routed) {
    app.dynos = std::move(old);
    app.release = old_release;
    app.health = old_health;
    app.engine = old_engine;
    app.upstreams = old_upstreams;
    co_await m_nginx.update_logged();
    for (const auto& dyno : fresh) {
      co_await m_supervisor.stop(dyno);
    }
    co_return std::unexpected(routed.error());
  }
  result.switch_ms = elapsed_ms(switching);
  result.web = std::ranges::count_if(fresh, [](const DynoPtr& dyno) { return dyno->web(); });
  if (auto moved = move_current ? ReleaseStore(layout, name).activate(version) : Expected<void>();
      !moved) {
    m_context.say("{}: {}", name, moved.error().message);
  }
  app.log->append("slipway[router]",
                  fmt::format("Routing {} to v{} ({} web processes): unpacked in {} ms, "
                              "started in {} ms, healthy after {} ms, switched in {} ms",
                              app.hosts.front(), version, result.web, result.unpack_ms,
                              result.start_ms, result.health_ms, result.switch_ms));
  asio::co_spawn(m_context.io, retire(std::move(old)), asio::detached);
  asio::co_spawn(m_context.io, retire_cluster(name, std::move(old_tasks)), asio::detached);
  co_return result;
}

awaitable<Expected<control::DeactivateResult>> Apps::deactivate(const std::string& name) {
  auto guard = co_await claim(name);
  co_await stop_serving(name);
  if (auto removed = ReleaseStore(m_context.layout, name).deactivate(); !removed) {
    co_return std::unexpected(removed.error());
  }
  co_return control::DeactivateResult{};
}

awaitable<void> Apps::stop_serving(const std::string& name) {
  AppState& app = state(name);
  auto dynos = std::move(app.dynos);
  app.dynos.clear();
  app.upstreams.clear();
  app.release.reset();
  std::vector<int> tasks =
      app.engine == Engine::swarm ? co_await cluster_releases_but(name, 0) : std::vector<int>{};
  co_await m_nginx.update_logged();
  app.log->append("slipway[router]", "No release is live: answering 503");
  asio::co_spawn(m_context.io, retire(std::move(dynos)), asio::detached);
  asio::co_spawn(m_context.io, retire_cluster(name, std::move(tasks)), asio::detached);
}

} // namespace slipway::daemon
