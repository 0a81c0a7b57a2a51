// The nginx the daemon owns, in front of every app's web processes: started with the
// daemon, started again with backoff when it dies, and reloaded gracefully with a new
// configuration generation (router.hpp) whenever the routes change. The daemon knows a
// reload has taken effect when nginx's control socket answers with the new generation.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "common/proc.hpp"
#include "common/subprocess.hpp"
#include "runtime/daemon/context.hpp"
#include "runtime/daemon/router.hpp"

namespace slipway::daemon {

// "PID START" (a pid and its start time, against pid reuse), as run/nginx/master.pid and
// run/dynos/APP/TYPE.N-RUN.pid hold them.
struct PidRecord {
  int pid = 0;
  long start = 0;
};
std::optional<PidRecord> parse_pid_record(std::string_view text);

// The generation nginx's control socket answered with ("7"); nullopt when it is not a number.
std::optional<long> parse_generation(std::string_view body);

// Whether an nginx worker with this /proc/PID/cmdline has not begun its graceful shutdown
// (so still takes connections).
bool worker_still_listening(std::string_view cmdline);

// Whether the process `stat` describes is a worker that the nginx master `master` (started
// at `start`) left behind when killed: an nginx in its process group, started after it, and
// no longer its child (a new process that took the pid has children of its own).
bool orphaned_worker(const ProcessStat& stat, int pid, int master, long start);

class Nginx {
 public:
  // `routes()`: every app's routes as they are now, for each new configuration.
  Nginx(Context& context, std::function<std::vector<Route>()> routes);

  // Stops the nginx a killed daemon left running (run/nginx/master.pid) and its workers.
  void kill_leftover();
  // Starts nginx with the routes as they are now; returns once it serves them.
  awaitable<Expected<void>> start();
  // Writes the configuration for the routes as they are now and reloads nginx gracefully;
  // returns once nginx answers with it. The old workers finish their requests meanwhile.
  awaitable<Expected<void>> update();
  // update(), its error logged.
  awaitable<void> update_logged();
  // Until the workers that served before the last reload are gone, or `deadline`.
  awaitable<void> wait_old_workers(SteadyClock::time_point deadline);
  // SIGQUIT, then SIGKILL after [runtime].stop_grace.
  awaitable<void> stop();

  const RouterFiles& files() const { return m_files; }

 private:
  std::filesystem::path record() const { return m_files.prefix / "master.pid"; }
  awaitable<void> relay_output(std::shared_ptr<asio::posix::stream_descriptor> pipe);
  awaitable<void> watch(std::shared_ptr<asio::posix::stream_descriptor> pidfd, int pid);
  awaitable<Expected<void>> kill_orphaned_workers(int master, long start);
  awaitable<Expected<void>> wait_generation(long generation, SteadyClock::time_point deadline);

  Context& m_context;
  std::function<std::vector<Route>()> m_routes;
  RouterFiles m_files;
  long m_generation = 0;
  int m_pid = -1;
  long m_start = -1;
  milliseconds m_backoff;
  bool m_running = false;
  bool m_ready = false;        // it started once: a later exit is restarted
  std::set<int> m_old_workers; // of the configurations before the last reload
};

} // namespace slipway::daemon
