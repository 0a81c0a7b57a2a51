// One process of an app as the daemon keeps it: "web.1", its current run, its state.
#pragma once

#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/cgroup.hpp"
#include "common/subprocess.hpp"
#include "common/time.hpp"
#include "compiler/app_json.hpp"
#include "runtime/app_log.hpp"
#include "runtime/daemon/context.hpp"
#include "runtime/release.hpp"

namespace slipway::daemon {

enum class DynoState { starting, up, crashed, stopping, down };

std::string_view to_string(DynoState state);

// The last lines one run of a process printed (stdout and stderr), for the message of a
// launch that failed: the app's own words, bounded in number and length.
struct OutputTail {
  static constexpr std::size_t k_lines = 20;
  static constexpr std::size_t k_line_length = 240; // bytes; longer lines are cut

  std::deque<std::string> lines;
  std::size_t total = 0; // lines printed in all
  bool closed = false;   // the output ended: every process of the run closed it

  void add(std::string_view line);
};

// The object outlives restarts; `pid` is the current run.
struct Dyno : std::enable_shared_from_this<Dyno> {
  explicit Dyno(asio::io_context& io) : restart_timer(io) {}

  std::string app;
  std::string type;
  int index = 0;
  std::shared_ptr<const Release> release;
  std::string command;
  std::shared_ptr<AppLog> log; // the app's

  // Dokku's liveness check of the release's web process, asked while it is up.
  std::optional<HealthCheck> liveness;

  long run = 0; // which run `pid` is, unique in the daemon
  int pid = -1;
  int port = 0;      // while it runs, else 0 (the port went back to the pool)
  int last_port = 0; // the port of the latest run, kept for messages after it ended
  bool running = false;
  bool wanted = true;     // false once it is being stopped on purpose: no restart
  bool probation = false; // an activation is judging it: a crash fails the activation
  DynoState state = DynoState::starting;
  ExitStatus last_exit;
  int crashes = 0; // in a row
  TimePoint started_at;
  SteadyClock::time_point started_steady;
  std::filesystem::path dir;
  std::string exit_reason; // why it stopped, for an activation's message
  std::string kill_reason; // why the daemon killed it (memory, disk), logged at its exit
  std::shared_ptr<SandboxCgroups> cgroups; // of the current run
  std::shared_ptr<OutputTail> output;      // of the current run
  asio::steady_timer restart_timer;

  std::string name() const { return fmt::format("{}.{}", type, index); }
  bool web() const { return type == "web"; }
};
using DynoPtr = std::shared_ptr<Dyno>;

} // namespace slipway::daemon
