// Process supervision: a dyno's run is a fresh copy of its release's files, a port from the
// pool for web, the sandboxed process and the coroutines that log its output and wait for
// its exit; a crash restarts it with backoff (restart_delay), a stop is SIGTERM then SIGKILL
// after [runtime].stop_grace, and a process past its memory or disk budget, or failing its
// liveness check, is killed (and so restarted).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/daemon/context.hpp"
#include "runtime/daemon/health.hpp"
#include "runtime/daemon/port_pool.hpp"
#include "runtime/daemon/process.hpp"
#include "runtime/dyno.hpp"

namespace slipway::daemon {

class Nginx;

class Supervisor {
 public:
  // `health_target(app)`: what a web process of the app must answer before it takes traffic.
  Supervisor(Context& context, Nginx& nginx,
             std::function<HealthTarget(const std::string& app)> health_target);

  // Processes a daemon killed with SIGKILL left behind (those not in a sandbox that dies
  // with it), recognised by pid and start time.
  void kill_leftovers();

  DynoPtr make_dyno(const std::string& app, std::shared_ptr<const Release> release,
                    const std::string& type, int index, std::shared_ptr<AppLog> log);

  // Starts one run of the dyno. Its exit is a crash, restarted with backoff, unless the dyno
  // is on probation or no longer wanted.
  awaitable<Expected<void>> launch(DynoPtr dyno);
  // Starts the dyno outside an activation (daemon start, scaling, a crash's restart): a web
  // process joins the router once healthy; one that never gets healthy is killed and
  // restarted as a crash.
  awaitable<void> bring_up(DynoPtr dyno);
  // SIGTERM, then SIGKILL after [runtime].stop_grace; returns once it has exited.
  awaitable<void> stop(DynoPtr dyno);
  // Until the dyno's web process answers its health check within [runtime].health_timeout.
  awaitable<Expected<void>> wait_healthy(DynoPtr dyno, HealthTarget target);

  // Records the change; a web process that comes up starts having its liveness checked.
  void set_state(Dyno& dyno, DynoState next);
  void log(const Dyno& dyno, std::string_view text);

  // Detail lines for whoever started the dyno: the last lines its latest run printed (after
  // waiting a moment for a run that just ended to be read to its end), or that it printed
  // nothing.
  awaitable<std::vector<std::string>> last_output(DynoPtr dyno);

  // Measures each running dyno's copy off the loop, then restarts those past
  // [runtime].max_disk.
  awaitable<void> check_disk_budgets(std::vector<DynoPtr> dynos);

 private:
  awaitable<Expected<void>> make_files(const std::filesystem::path& unpacked,
                                       const std::filesystem::path& dir, Owner owner,
                                       std::shared_ptr<ProcessFiles> out);
  awaitable<Expected<void>> measure_disk(std::vector<std::filesystem::path> dirs,
                                         std::shared_ptr<std::vector<bool>> over);
  void remove_later(const std::filesystem::path& dir, std::shared_ptr<SandboxCgroups> cgroups);
  awaitable<void> watch_memory(DynoPtr dyno, int pid,
                               std::shared_ptr<asio::posix::stream_descriptor> events);
  awaitable<void> read_output(DynoPtr dyno, std::shared_ptr<asio::posix::stream_descriptor> pipe,
                              std::shared_ptr<OutputTail> tail);
  awaitable<void> watch_liveness(DynoPtr dyno, long run, HealthTarget target);
  awaitable<void> wait_exit(DynoPtr dyno, std::shared_ptr<asio::posix::stream_descriptor> pidfd,
                            int pid);
  void signal_dyno(const Dyno& dyno, int signal_number);
  void release_port(Dyno& dyno);

  Context& m_context;
  Nginx& m_nginx;
  std::function<HealthTarget(const std::string&)> m_health_target;
  PortPool m_ports;
  long m_runs = 0;
};

} // namespace slipway::daemon
