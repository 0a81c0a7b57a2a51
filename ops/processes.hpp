// An app's processes: list them (from the daemon), scale, restart, and run a one-off command.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "ops/context.hpp"
#include "runtime/control.hpp"

namespace slipway::ops {

// The daemon's view of the app's processes (a daemon must be running).
Expected<std::vector<control::ProcessStatus>> list_processes(const Context& context,
                                                             const std::string& app);

struct Scale {
  std::string app;
  std::map<std::string, int> counts; // process type -> how many
};
// Validates every type (a type of the live release) and count (0..k_max_scale), then
// saves the formation and tells the daemon. Returns "web@2, worker@1".
Expected<std::string> scale(const Context& context, const Scale& request);

struct Restart {
  std::string app;
  std::string type; // empty: every process
};
// How many processes were restarted (web ones rolling, by the daemon).
Expected<int> restart(const Context& context, const Restart& request);

struct RunOneOff {
  std::string app;
  std::vector<std::string> command; // one word: a shell command line; several: an argv
};
// Runs the command in the live release's environment on the caller's terminal, in a
// throwaway copy of the release as a process has. Returns the command's exit status.
Expected<int> run_oneoff(const Context& context, const RunOneOff& request);

} // namespace slipway::ops
