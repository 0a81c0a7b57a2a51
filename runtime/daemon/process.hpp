// One process of an app as the daemon keeps it: "web.1", its current run, its state.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/cgroup.hpp"
#include "common/subprocess.hpp"
#include "common/time.hpp"
#include "runtime/app_log.hpp"
#include "runtime/daemon/context.hpp"
#include "runtime/release.hpp"

namespace slipway::daemon {

enum class DynoState { starting, up, crashed, stopping, down };

std::string_view to_string(DynoState state);

// The object outlives restarts; `pid` is the current run.
struct Dyno {
  explicit Dyno(asio::io_context& io) : restart_timer(io) {}

  std::string app;
  std::string type;
  int index = 0;
  std::shared_ptr<const Release> release;
  std::string command;
  std::shared_ptr<AppLog> log; // the app's

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
  std::filesystem::path dir;
  std::string exit_reason; // why it stopped, for an activation's message
  std::string kill_reason; // why the daemon killed it (memory, disk), logged at its exit
  std::shared_ptr<SandboxCgroups> cgroups; // of the current run
  asio::steady_timer restart_timer;

  std::string name() const { return fmt::format("{}.{}", type, index); }
  bool web() const { return type == "web"; }
};
using DynoPtr = std::shared_ptr<Dyno>;

} // namespace slipway::daemon
