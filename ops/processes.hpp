// An app's processes: list them (from the daemon), scale, restart, and run a one-off command.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "ops/context.hpp"
#include "runtime/control.hpp"

namespace slipway::ops {

// The daemon's view of the app's processes (a daemon must be running).
Expected<std::vector<control::ProcessStatus>> list_processes(const Context& context,
                                                             const std::string& app);

// One change of `ps:scale`: web=2, web+1, worker-1.
struct ScaleChange {
  enum class How { set, add, remove };
  std::string type;
  How how = How::set;
  int count = 0;
};
// "web=2", "web+1", "worker-1".
Expected<ScaleChange> parse_scale_change(std::string_view text);

struct Scale {
  std::string app;
  std::vector<ScaleChange> changes;
};
// Validates every type (a type of the live release) and resulting count (0..k_max_scale),
// then saves the formation and tells the daemon. Returns "web@2, worker@1".
Expected<std::string> scale(const Context& context, const Scale& request);

// How many processes of each type of the live release run, with its command.
struct FormationEntry {
  std::string type;
  int count = 0;
  std::string command;
};
Expected<std::vector<FormationEntry>> formation(const Context& context, const std::string& app);

// The one size every process runs at ([runtime] in slipway.toml): `ps:type`.
struct ProcessSize {
  std::uint64_t memory = 0;
  int processes = 0;
  std::uint64_t disk = 0;
};
Expected<ProcessSize> process_size(const Context& context, const std::string& app);

struct Restart {
  std::string app;
  std::string target; // a process type, one process ("web.1"), or empty: every process
  bool stop = false;  // ps:stop: each stops before the formation starts it again
};
// How many processes were restarted (web ones rolling, by the daemon, unless `stop`).
Expected<int> restart(const Context& context, const Restart& request);

struct RunOneOff {
  std::string app;
  // One word: a process type of the release (its Procfile command runs, as on Dokku) or a
  // shell command line; several: an argv.
  std::vector<std::string> command;
  std::vector<std::pair<std::string, std::string>> env; // `-e NAME=VALUE`, over config vars
  std::string dyno;                                     // empty: run.PID
  bool to_log = false; // output to the app log (run:detached), not the caller's terminal
};
// Runs the command in the live release's environment, in a throwaway copy of the release as
// a process has. Returns the command's exit status.
Expected<int> run_oneoff(const Context& context, const RunOneOff& request);

// `run:detached`: the one-off runs on in the background with its output in the app log;
// returns its name ("run.4711").
Expected<std::string> run_detached(const Context& context, const RunOneOff& request);

} // namespace slipway::ops
