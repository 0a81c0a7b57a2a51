// Following a cluster app's tasks (apps.hpp): the router's upstreams after its live
// release's web tasks that are up, a dyno event for each change of a task's state, its
// tasks' output in the app's log, and `ps`.
#include <algorithm>

#include "runtime/daemon/apps.hpp"
#include "runtime/events.hpp"

namespace slipway::daemon {

namespace {

constexpr milliseconds k_watch_every{1000};

// Swarm's task states as `ps` shows a process's.
std::string process_state(const std::string& state) {
  if (state == "running") {
    return "up";
  }
  if (state == "failed" || state == "rejected") {
    return "crashed";
  }
  if (state == "shutdown" || state == "complete" || state == "orphaned" || state == "remove") {
    return "down";
  }
  return "starting"; // new, pending, assigned, accepted, ready, preparing, starting
}

} // namespace

awaitable<void> Apps::refresh_cluster(const std::string& name, bool route) {
  if (!m_cluster || !m_apps.contains(name) || state(name).engine != Engine::swarm ||
      !state(name).release) {
    co_return;
  }
  int version = state(name).release->version;
  auto tasks = co_await m_cluster->tasks(name);
  if (!tasks || !m_apps.contains(name)) {
    co_return;
  }
  AppState& app = state(name);
  if (app.engine != Engine::swarm || !app.release || app.release->version != version) {
    co_return; // switched meanwhile: the switch set its upstreams
  }
  record_task_changes(name, version, *tasks);
  std::vector<std::string> up;
  for (const auto& task : *tasks) {
    if (task.release == version && task.wanted && task.type == "web" && task.state == "running" &&
        !task.address.empty()) {
      up.push_back(task.address);
    }
  }
  std::ranges::sort(up);
  if (up != app.upstreams) {
    app.upstreams = std::move(up);
    if (route) {
      co_await m_nginx.update_logged();
    }
  }
}

void Apps::record_task_changes(const std::string& name, int version,
                               const std::vector<ClusterTask>& tasks) {
  AppState& app = state(name);
  auto record = [&](const std::string& dyno, const std::string& from, const std::string& to,
                    const std::string& message) {
    nlohmann::json data = {{"dyno", dyno}, {"from", from}, {"to", to}, {"version", version}};
    if (!message.empty()) {
      data["message"] = message;
    }
    Event event{.app = name, .resource = "dyno", .action = to, .actor = "slipway", .data = data};
    if (auto recorded = record_event(m_context.layout, m_context.config, std::move(event));
        !recorded) {
      m_context.say("{}: {}", name, recorded.error().message);
    }
  };
  std::map<std::string, std::pair<std::string, std::string>> now;
  for (const auto& task : tasks) {
    if (task.release == version && task.wanted) {
      now[task.name()] = {task.id, process_state(task.state)};
    }
  }
  for (const auto& [dyno, seen] : now) {
    const auto& [id, to] = seen;
    std::string from;
    if (auto before = app.tasks_seen.find(dyno); before != app.tasks_seen.end()) {
      from = before->second.second;
      if (before->second.first != id) {
        // Replaced: a task that failed is a crash, as a process of the daemon's own would be.
        auto old = std::ranges::find(tasks, before->second.first, &ClusterTask::id);
        if (old != tasks.end() && (old->state == "failed" || old->state == "rejected")) {
          record(dyno, from, "crashed", old->message);
          from = "crashed";
        }
      }
    }
    if (from.empty() ? to != "starting" : from != to) {
      record(dyno, from.empty() ? std::string("starting") : from, to, "");
    }
  }
  // A process between two tasks (the failed one shut down, its replacement not yet made)
  // is remembered as it was, so the replacement is seen as one.
  for (auto& [dyno, seen] : app.tasks_seen) {
    now.try_emplace(dyno, std::move(seen));
  }
  app.tasks_seen = std::move(now);
}

awaitable<std::vector<control::ProcessStatus>> Apps::cluster_ps(const std::string& name) {
  std::vector<control::ProcessStatus> list;
  auto tasks = co_await m_cluster->tasks(name);
  if (!tasks) {
    m_context.say("{}: {}", name, tasks.error().message);
    co_return list;
  }
  auto release = state(name).release;
  for (const auto& task : *tasks) {
    if (!task.wanted) {
      continue;
    }
    control::ProcessStatus entry{.name = task.name(),
                                 .type = task.type,
                                 .state = process_state(task.state),
                                 .release = task.release};
    if (release) {
      for (const auto& [type, command] : release->process_types) {
        if (type == task.type) {
          entry.command = command;
        }
      }
    }
    if (task.started_at) {
      entry.started_at = format_time(*task.started_at);
      entry.uptime_seconds =
          std::chrono::duration_cast<std::chrono::seconds>(SystemClock::now() - *task.started_at)
              .count();
    }
    if (auto colon = task.address.rfind(':'); colon != std::string::npos) {
      entry.port = std::atoi(task.address.c_str() + colon + 1);
    }
    list.push_back(std::move(entry));
  }
  co_return list;
}

awaitable<void> Apps::watch_cluster() {
  if (!m_cluster) {
    co_return;
  }
  while (!m_context.stopping) {
    co_await sleep_for(k_watch_every);
    std::vector<std::string> names;
    for (const auto& [name, app] : m_apps) {
      if (app.engine == Engine::swarm && app.release && !app.busy) {
        names.push_back(name);
      }
    }
    for (const auto& name : names) {
      if (m_context.stopping || !m_apps.contains(name) || state(name).busy) {
        continue;
      }
      co_await refresh_cluster(name);
      std::string since = state(name).log_since;
      auto said = co_await m_cluster->logs(name, since);
      if (!said || !m_apps.contains(name)) {
        continue;
      }
      AppState& app = state(name);
      for (const auto& line : *said) {
        app.log->append(fmt::format("app[{}]", line.dyno), line.text);
        app.log_since = std::max(app.log_since, line.time);
      }
    }
  }
}

} // namespace slipway::daemon
