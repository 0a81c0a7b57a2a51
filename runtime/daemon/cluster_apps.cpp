// Apps on a cluster engine (apps.hpp): the same activation contract as the daemon's own
// processes — the new release's web tasks answer their health check, then the router
// switches to their published ports, then the old release's services go — with the engine
// running the tasks. Adopting what runs after a restart, scaling, restarts and run; following
// the tasks is cluster_watch.cpp's.
#include <algorithm>
#include <set>

#include "common/output.hpp"
#include "runtime/apps.hpp"
#include "runtime/daemon/apps.hpp"
#include "runtime/release_store.hpp"

namespace slipway::daemon {

namespace {

constexpr milliseconds k_probe_timeout{5000};
constexpr milliseconds k_pump_every{50};
constexpr milliseconds k_follow_every{250}; // the tasks, while Swarm replaces them
constexpr std::size_t k_failure_lines = 20;
// Tasks of a new release the engine may fail to start before the release fails.
constexpr std::size_t k_engine_failures = 3;

struct Outcome {
  bool done = false;
  Expected<void> result;
};

// Runs `work` on the loop beside its caller; `outcome` says when it is done, and how.
void spawn_into(asio::io_context& io, awaitable<Expected<void>> work,
                std::shared_ptr<Outcome> outcome) {
  asio::co_spawn(io, std::move(work), [outcome](std::exception_ptr error, Expected<void> result) {
    outcome->result = error ? Expected<void>(std::unexpected(Error{"the engine call failed"}))
                            : std::move(result);
    outcome->done = true;
  });
}

awaitable<Expected<void>> keep_status(awaitable<Expected<int>> work, std::shared_ptr<int> status) {
  auto ran = co_await std::move(work);
  if (!ran) {
    co_return std::unexpected(ran.error());
  }
  *status = *ran;
  co_return Expected<void>{};
}

// Now as the engine writes its log times (nine digits of fraction), for `since`.
std::string engine_time_now() {
  std::string now = format_time(SystemClock::now()); // "2026-12-04T09:00:00Z"
  return now.substr(0, 19) + ".000000000Z";
}

} // namespace

bool Apps::wants_cluster(const std::string& name) const {
  auto info = app_info(m_context.layout, name);
  return info && app_engine(m_context.config, *info) == Engine::swarm;
}

awaitable<Expected<void>> Apps::pumped(awaitable<Expected<void>> work,
                                       std::shared_ptr<LineQueue> lines, Caller& caller) {
  auto outcome = std::make_shared<Outcome>();
  spawn_into(m_context.io, std::move(work), outcome);
  while (true) {
    bool done = outcome->done; // read before taking: a last line is never left behind
    for (auto& line : lines->take()) {
      co_await caller.output(std::move(line));
    }
    if (done) {
      break;
    }
    co_await sleep_for(k_pump_every);
  }
  co_return outcome->result;
}

awaitable<std::vector<int>> Apps::cluster_releases_but(const std::string& name, int keep) {
  std::vector<int> versions;
  if (!m_cluster) {
    co_return versions;
  }
  auto listed = co_await m_cluster->releases(name);
  if (!listed) {
    m_context.say("{}: {}", name, listed.error().message);
    co_return versions;
  }
  for (int version : *listed) {
    if (version != keep) {
      versions.push_back(version);
    }
  }
  co_return versions;
}

awaitable<void> Apps::retire_cluster(std::string name, std::vector<int> versions) {
  if (versions.empty() || !m_cluster) {
    co_return;
  }
  co_await m_nginx.wait_old_workers(SteadyClock::now() + m_context.config.runtime.stop_grace);
  for (int version : versions) {
    if (auto removed = co_await m_cluster->remove(name, version); !removed) {
      m_context.say("{}: cannot remove v{}'s services: {}", name, version, removed.error().message);
    }
  }
}

awaitable<Expected<std::vector<std::string>>> Apps::wait_cluster_healthy(const std::string& name,
                                                                         const Release& release,
                                                                         int web,
                                                                         const HealthCheck& check) {
  auto deadline = SteadyClock::now() + m_context.config.runtime.health_timeout;
  std::string host = state(name).hosts.front();
  std::string last = "no web task is running yet";
  std::set<std::string> engine_failures; // tasks of the release that failed before running
  while (true) {
    auto tasks = co_await m_cluster->tasks(name);
    if (!tasks) {
      co_return std::unexpected(tasks.error());
    }
    std::vector<std::string> healthy;
    for (const auto& task : *tasks) {
      if (task.release != release.version) {
        continue;
      }
      if (!task.wanted && (task.state == "failed" || task.state == "rejected")) {
        // The app's process ended (or failed its check): the release fails now, as one of
        // the daemon's own would. The engine's own trouble starting it (a mount that was
        // busy, an image pull cut short) Swarm tries again, a few times.
        bool ran = task.message.starts_with("task: non-zero exit") ||
                   task.message.find("unhealthy") != std::string::npos;
        engine_failures.insert(task.id);
        if (ran || engine_failures.size() >= k_engine_failures) {
          co_return fail("{} {} on swarm: {}", task.name(), task.state, task.message);
        }
      }
      if (!task.wanted || task.type != "web" || task.state != "running" || task.address.empty()) {
        continue;
      }
      HttpAnswer answer =
          co_await http_get_address(task.address, host, check.path, k_probe_timeout);
      HealthVerdict verdict = judge_health(check, answer);
      if (verdict.healthy) {
        healthy.push_back(task.address);
      } else {
        last = fmt::format("{} at {}: {}", task.name(), task.address,
                           verdict.why.empty() ? answer.problem : verdict.why);
      }
    }
    if (std::cmp_greater_equal(healthy.size(), web)) {
      std::ranges::sort(healthy);
      co_return healthy;
    }
    if (SteadyClock::now() > deadline) {
      co_return fail("v{}'s web tasks did not all pass their health check within {} ({})",
                     release.version, format_duration(m_context.config.runtime.health_timeout),
                     last);
    }
    co_await sleep_for(milliseconds(250));
  }
}

awaitable<Expected<control::ActivateResult>>
Apps::switch_to_cluster(const std::string& name, std::shared_ptr<const Release> release,
                        std::optional<SystemClock::time_point> deadline, Caller& caller,
                        bool move_current, bool release_phase) {
  const Layout& layout = m_context.layout;
  int version = release->version;
  if (!m_cluster) {
    co_return fail("{} runs on swarm, but {}", name, m_cluster_problem);
  }
  control::ActivateResult result;
  auto health = co_await unpack_checks(name, *release, result.unpack_ms);
  if (!health) {
    co_return std::unexpected(health.error());
  }
  auto started = SteadyClock::now();
  auto lines = std::make_shared<LineQueue>();
  Expected<void> outcome = co_await pumped(m_cluster->prepare(name, release, lines), lines, caller);
  if (outcome && release_phase && !release->release_command.empty()) {
    outcome = co_await pumped(m_cluster->release_phase(name, release, lines), lines, caller);
  }
  auto counts = formation(name, *release);
  int web = 0;
  for (const auto& [type, count] : counts) {
    web += type == "web" ? count : 0;
  }
  if (outcome) {
    outcome = co_await m_cluster->apply(name, state(name).hosts.front(), release, counts,
                                        health->startup);
  }
  result.start_ms = elapsed_ms(started);
  auto launched = SteadyClock::now();
  std::vector<std::string> upstreams;
  if (outcome) {
    auto healthy = co_await wait_cluster_healthy(name, *release, web, health->startup);
    if (healthy) {
      upstreams = std::move(*healthy);
      co_await caller.output(detail_line(fmt::format(
          "{} web task{} answered on swarm after {}", upstreams.size(),
          upstreams.size() == 1 ? "" : "s", seconds_text(SteadyClock::now() - started))));
    } else {
      outcome = std::unexpected(healthy.error());
    }
  }
  result.health_ms = elapsed_ms(launched);
  if (outcome && (caller.gone() || (deadline && SystemClock::now() > *deadline))) {
    outcome = fail("the caller stopped waiting before v{} was switched to", version);
  }
  AppState& app = state(name);
  bool live = app.engine == Engine::swarm && app.release && app.release->version == version;
  if (!outcome) {
    app.log->append("slipway[api]", fmt::format("Release v{} failed its launch: {}", version,
                                                outcome.error().message));
    // What its tasks said before they failed: the pusher cannot read the app's log.
    if (auto said = co_await m_cluster->logs(name, ""); said) {
      std::vector<std::string> mine;
      for (const auto& line : *said) {
        if (line.release == version) {
          mine.push_back(detail_line(fmt::format("app[{}]: {}", line.dyno, printable(line.text))));
        }
      }
      std::size_t from = mine.size() > k_failure_lines ? mine.size() - k_failure_lines : 0;
      for (std::size_t i = from; i < mine.size(); ++i) {
        co_await caller.output(std::move(mine[i]));
      }
    }
    if (!live) {
      if (auto removed = co_await m_cluster->remove(name, version); !removed) {
        m_context.say("{}: cannot remove v{}'s services: {}", name, version,
                      removed.error().message);
      }
    }
    co_return std::unexpected(outcome.error());
  }
  // Healthy: the router sends the new tasks the traffic, then `current` moves, then the
  // old release's processes go, wherever they ran.
  std::vector<int> old_tasks = co_await cluster_releases_but(name, version);
  AppState& now = state(name);
  std::vector<DynoPtr> old = std::move(now.dynos);
  now.dynos.clear();
  auto old_release = now.release;
  auto old_health = now.health;
  auto old_engine = now.engine;
  auto old_upstreams = now.upstreams;
  now.release = release;
  now.health = *health;
  now.engine = Engine::swarm;
  now.upstreams = upstreams;
  now.tasks_seen.clear(); // the new release's tasks are recorded as they are next seen
  if (now.log_since.empty()) {
    now.log_since = engine_time_now();
  }
  auto switching = SteadyClock::now();
  Expected<void> routed = co_await m_nginx.update();
  if (routed && (caller.gone() || (deadline && SystemClock::now() > *deadline))) {
    routed = fail("the caller stopped waiting before v{} was switched to", version);
  }
  if (!routed) {
    AppState& back = state(name);
    back.dynos = std::move(old);
    back.release = old_release;
    back.health = old_health;
    back.engine = old_engine;
    back.upstreams = old_upstreams;
    co_await m_nginx.update_logged();
    if (auto removed = co_await m_cluster->remove(name, version); !removed) {
      m_context.say("{}: {}", name, removed.error().message);
    }
    co_return std::unexpected(routed.error());
  }
  result.switch_ms = elapsed_ms(switching);
  result.web = static_cast<long>(upstreams.size());
  if (auto moved = move_current ? ReleaseStore(layout, name).activate(version) : Expected<void>();
      !moved) {
    m_context.say("{}: {}", name, moved.error().message);
  }
  state(name).log->append(
      "slipway[router]",
      fmt::format("Routing {} to v{} ({} web tasks on swarm): unpacked in {} ms, started in {} "
                  "ms, healthy after {} ms, switched in {} ms",
                  state(name).hosts.front(), version, result.web, result.unpack_ms, result.start_ms,
                  result.health_ms, result.switch_ms));
  asio::co_spawn(m_context.io, retire(std::move(old)), asio::detached);
  asio::co_spawn(m_context.io, retire_cluster(name, std::move(old_tasks)), asio::detached);
  co_return result;
}

awaitable<void> Apps::adopt_cluster(const std::string& name) {
  if (!m_cluster || !wants_cluster(name)) {
    co_return;
  }
  auto release = live_release(name);
  if (!release) {
    co_return;
  }
  AppState& app = state(name);
  app.release = std::move(release);
  app.engine = Engine::swarm;
  co_await refresh_cluster(name, false);
}

awaitable<void> Apps::start_live_cluster(const std::string& name) {
  auto release = live_release(name);
  if (!release) {
    co_return;
  }
  AppState& app = state(name);
  if (!app.release || app.release->version != release->version) {
    app.upstreams.clear(); // not those adopt_cluster found
  }
  app.release = release;
  app.engine = Engine::swarm;
  if (app.log_since.empty()) {
    app.log_since = engine_time_now();
  }
  if (!m_cluster) {
    app.log->append("slipway[api]", fmt::format("Cannot start v{}: {} runs on swarm, but {}",
                                                release->version, name, m_cluster_problem));
    m_context.say("{}: runs on swarm, but {}", name, m_cluster_problem);
    co_return;
  }
  long unpack_ms = 0;
  if (auto health = co_await unpack_checks(name, *release, unpack_ms)) {
    state(name).health = *health;
  } else {
    m_context.say("{}: {}", name, health.error().message); // the default check, then
  }
  // What an interrupted activation left: services of releases that never went live.
  std::vector<int> others = co_await cluster_releases_but(name, release->version);
  auto applied = co_await m_cluster->apply(name, state(name).hosts.front(), release,
                                           formation(name, *release), state(name).health.startup);
  if (!applied) {
    state(name).log->append("slipway[api]", fmt::format("Cannot start v{} on swarm: {}",
                                                        release->version, applied.error().message));
    m_context.say("{}: {}", name, applied.error().message);
  }
  co_await refresh_cluster(name);
  m_context.say("{}: v{} on swarm, {} web tasks up", name, release->version,
                state(name).upstreams.size());
  asio::co_spawn(m_context.io, retire_cluster(name, std::move(others)), asio::detached);
}

awaitable<Expected<void>> Apps::sync_cluster(const std::string& name) {
  AppState& app = state(name);
  if (!app.release || !m_cluster) {
    co_return Expected<void>{};
  }
  auto release = app.release;
  auto applied = co_await m_cluster->apply(name, app.hosts.front(), release,
                                           formation(name, *release), app.health.startup);
  if (!applied) {
    co_return std::unexpected(applied.error());
  }
  co_await refresh_cluster(name);
  co_return Expected<void>{};
}

awaitable<Expected<control::RestartResult>>
Apps::restart_cluster(const std::string& name, const std::string& type, Caller& caller) {
  AppState& app = state(name);
  if (type.find('.') != std::string::npos) {
    co_return fail("on swarm a process type restarts as a whole: restart {} instead of {}",
                   type.substr(0, type.find('.')), type);
  }
  int count = 0;
  for (const auto& [name_of_type, wanted] : formation(name, *app.release)) {
    if (type.empty() || name_of_type == type) {
      count += wanted;
    }
  }
  if (!type.empty() && count == 0) {
    co_return fail("{} has no {} processes", name, type);
  }
  // Swarm stops each old task as soon as its replacement is up: the router follows the
  // tasks while the update goes on, so one of them is always there to answer.
  auto outcome = std::make_shared<Outcome>();
  spawn_into(m_context.io, m_cluster->restart(name, app.release->version, type), outcome);
  while (!outcome->done) {
    co_await sleep_for(k_follow_every);
    co_await refresh_cluster(name);
  }
  if (!outcome->result) {
    co_return std::unexpected(outcome->result.error());
  }
  co_await refresh_cluster(name);
  // (Not in the co_await's operand: see context.hpp.)
  std::string what = type.empty() ? std::string("every process") : type;
  std::string line = detail_line(fmt::format("{} restarted on swarm, one task at a time", what));
  co_await caller.output(std::move(line));
  co_return control::RestartResult{.restarted = count};
}

awaitable<Expected<control::RunResult>> Apps::run(const std::string& name,
                                                  const std::string& command, Caller& caller) {
  if (auto exists = require_app(m_context.layout, name); !exists) {
    co_return std::unexpected(exists.error());
  }
  if (!wants_cluster(name)) {
    co_return fail("{} runs on this server: its one-off processes are started by `run`, not by "
                   "the daemon",
                   name);
  }
  if (!m_cluster) {
    co_return fail("{} runs on swarm, but {}", name, m_cluster_problem);
  }
  auto release = state(name).release;
  if (!release || state(name).engine != Engine::swarm) {
    co_return fail("{} has no release live on swarm", name);
  }
  auto lines = std::make_shared<LineQueue>();
  auto status = std::make_shared<int>(0);
  auto ran = co_await pumped(
      keep_status(m_cluster->run_once(name, release, command, lines), status), lines, caller);
  if (!ran) {
    co_return std::unexpected(ran.error());
  }
  co_return control::RunResult{.status = *status};
}

} // namespace slipway::daemon
