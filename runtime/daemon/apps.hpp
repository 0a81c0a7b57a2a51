// Each app as the daemon runs it: the release its processes run, its live generation of
// processes, its host names and health check; and what changes them, one at a time per
// app: loading it at start, activating a release, deactivating it, syncing it with
// app.toml, a rolling restart. The old generation is retired once nginx no longer sends it
// requests.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/control.hpp"
#include "runtime/daemon/cluster.hpp"
#include "runtime/daemon/context.hpp"
#include "runtime/daemon/health.hpp"
#include "runtime/daemon/nginx.hpp"
#include "runtime/daemon/supervisor.hpp"

namespace slipway::daemon {

struct AppState {
  std::shared_ptr<const Release> release; // what its processes run; null: nothing live
  std::vector<DynoPtr> dynos;             // the live generation
  std::vector<std::string> hosts;         // APP.DOMAIN, then its domains
  bool maintenance = false;               // app.toml's: nginx answers with its 503 page
  WebHealthChecks health;                 // of `release`
  std::shared_ptr<AppLog> log;
  bool busy = false;                  // an activation, scaling or restart is under way
  SteadyClock::time_point settled_at; // when the sweep last started settling it
  // Where `release` runs. On a cluster, `dynos` stays empty: the engine runs the tasks, and
  // `upstreams` are the live release's web tasks that are up.
  Engine engine = Engine::local;
  std::vector<std::string> upstreams;
  std::string log_since; // a cluster app's: the time of the last line of its tasks logged
  // A cluster app's live tasks by process ("web.1"): the task's id and its state as `ps`
  // says it, for the dyno events of their changes.
  std::map<std::string, std::pair<std::string, std::string>> tasks_seen;
};

// Who asked for an activation or a restart: lines for them to print, and whether they
// still wait for the answer.
class Caller {
 public:
  virtual ~Caller() = default;
  virtual awaitable<void> output(std::string text) = 0;
  virtual bool gone() = 0;
};

// A caller nobody waits on: what the daemon does by itself (a reconciliation, a sync moving
// an app to another engine).
class NoCaller : public Caller {
 public:
  awaitable<void> output(std::string) override { co_return; }
  bool gone() override { return false; }
};

class Apps {
 public:
  // `cluster`: the engine of apps whose scheduler is swarm; null when the daemon has none
  // (`cluster_problem` says why).
  Apps(Context& context, Supervisor& supervisor, Nginx& nginx, ClusterEngine* cluster,
       std::string cluster_problem);

  AppState& state(const std::string& name);
  std::size_t size() const { return m_apps.size(); }
  // Its host names and maintenance mode from app.toml.
  void refresh_settings(const std::string& name, AppState& app);
  // What nginx serves: every app's hosts and its web processes that are up.
  std::vector<Route> routes();
  HealthTarget health_target(const std::string& name);
  // The live generation of every app, and (`retiring`) those being stopped.
  std::vector<DynoPtr> dynos(bool retiring) const;

  // Starts the app's live release in the background; its web processes join the router as
  // they pass their health checks.
  awaitable<void> load(const std::string& name);
  // Before the router's first configuration: a cluster app's live release and its web tasks
  // that are up, so a restarted daemon's nginx sends them requests from its start.
  awaitable<void> adopt_cluster(const std::string& name);
  // Starts vN beside the live release, and switches to it only if it is healthy and the
  // caller still waits for it (connected, before its deadline).
  // `release_phase`: a cluster app's release command runs first, as a one-off task (the
  // daemon's own processes have theirs run by the operation).
  awaitable<Expected<control::ActivateResult>>
  activate(const std::string& name, int version, std::optional<SystemClock::time_point> deadline,
           Caller& caller, bool release_phase = false);
  // Nothing of the app is live any more: its processes stop, its host answers 503, and
  // `current` goes (a first release whose push never completed).
  awaitable<Expected<control::DeactivateResult>> deactivate(const std::string& name);
  // Makes the app's processes match app.toml (formation, domains); stops everything of an
  // app that no longer exists. Reloads nginx, or (`reload` false) only if its routes change.
  awaitable<Expected<control::SyncResult>> sync(const std::string& name, bool reload = true);
  // Restarts the app's processes (of one type): web ones one at a time, each replaced by a
  // healthy new one before it stops, so a restart drops no request.
  awaitable<Expected<control::RestartResult>>
  restart(const std::string& name, const std::string& type, bool stop, Caller& caller);
  awaitable<std::vector<control::ProcessStatus>> ps(const std::string& name);
  // `run` on a cluster app: `command` in a one-off task of its live release.
  awaitable<Expected<control::RunResult>> run(const std::string& name, const std::string& command,
                                              Caller& caller);
  // Every second: each cluster app's upstreams follow its live release's web tasks that
  // are up (Swarm replaces a crashed one on another port), and its tasks' output goes to
  // its log.
  awaitable<void> watch_cluster();

  // Makes what runs match what is on disk, for an event that says the app changed: the
  // release that is live in its records, then app.toml as sync() does, without reloading
  // nginx when its routes stay the same. Never moves `current`: that is an operation's.
  awaitable<void> reconcile(std::string name);

 private:
  // activate() once the app is claimed; `move_current` false leaves `current` as it is.
  awaitable<Expected<control::ActivateResult>>
  switch_to(const std::string& name, int version, std::optional<SystemClock::time_point> deadline,
            Caller& caller, bool move_current, bool release_phase = false);
  // The same on the cluster (cluster_apps.cpp).
  awaitable<Expected<control::ActivateResult>>
  switch_to_cluster(const std::string& name, std::shared_ptr<const Release> release,
                    std::optional<SystemClock::time_point> deadline, Caller& caller,
                    bool move_current, bool release_phase);
  // Until every web task of `release` answers its health check: their addresses; an error
  // with Swarm's reason for a task that failed, or the last answer at the time limit.
  awaitable<Expected<std::vector<std::string>>> wait_cluster_healthy(const std::string& name,
                                                                     const Release& release,
                                                                     int web,
                                                                     const HealthCheck& check);
  // Runs `work` while passing the lines it queues to `caller`.
  awaitable<Expected<void>> pumped(awaitable<Expected<void>> work, std::shared_ptr<LineQueue> lines,
                                   Caller& caller);
  // Once nginx's old workers are gone, removes `versions`' services.
  awaitable<void> retire_cluster(std::string name, std::vector<int> versions);
  // The app's cluster releases but `keep`.
  awaitable<std::vector<int>> cluster_releases_but(const std::string& name, int keep);
  // The cluster side of load() and sync(): adopts the live release's services (or makes
  // them), at the formation's counts; removes other releases'.
  awaitable<void> start_live_cluster(const std::string& name);
  awaitable<Expected<void>> sync_cluster(const std::string& name);
  awaitable<Expected<control::RestartResult>>
  restart_cluster(const std::string& name, const std::string& type, Caller& caller);
  // The live release's web tasks that are up become its upstreams; nginx reloads when they
  // changed, if `route`.
  awaitable<void> refresh_cluster(const std::string& name, bool route = true);
  bool wants_cluster(const std::string& name) const;
  awaitable<std::vector<control::ProcessStatus>> cluster_ps(const std::string& name);
  // Records a dyno event for each of the live release's tasks whose state changed since
  // the last look, and a crash for one Swarm replaced after it failed.
  void record_task_changes(const std::string& name, int version,
                           const std::vector<ClusterTask>& tasks);
  // deactivate() once the app is claimed, but for `current`.
  awaitable<void> stop_serving(const std::string& name);
  // load() once the app is claimed.
  awaitable<void> start_live(const std::string& name);
  // Switches to the release the app's records have live, if another one runs.
  awaitable<Expected<void>> converge_release(const std::string& name);
  // How many processes of each of the release's types run, in the Procfile's order.
  std::vector<std::pair<std::string, int>> formation(const std::string& name,
                                                     const Release& release) const;
  // Waits for the app's other activation, scaling or restart to finish, then marks it busy
  // until the returned guard goes.
  awaitable<std::shared_ptr<void>> claim(const std::string& name);
  std::shared_ptr<void> busy_guard(const std::string& name);
  DynoPtr make_dyno(const std::string& name, std::shared_ptr<const Release> release,
                    const std::string& type, int index);
  // Once the nginx workers that served before the last switch are gone (they finish their
  // requests first), stops the processes they may have been talking to.
  awaitable<void> retire(std::vector<DynoPtr> dynos);
  awaitable<Expected<void>> unpack(const std::string& name, const Release& release);
  // The release unpacked (`unpack_ms`: how long that took), and its web health checks.
  awaitable<Expected<WebHealthChecks>> unpack_checks(const std::string& name,
                                                     const Release& release, long& unpack_ms);
  // The release the app's records have live, if it has a slug to run; a record that cannot
  // be read is said in the daemon's log.
  std::shared_ptr<const Release> live_release(const std::string& name);

  Context& m_context;
  Supervisor& m_supervisor;
  Nginx& m_nginx;
  std::unique_ptr<ClusterCalls> m_cluster;
  std::string m_cluster_problem;
  std::map<std::string, AppState> m_apps;
  std::vector<DynoPtr> m_retiring;
};

} // namespace slipway::daemon
