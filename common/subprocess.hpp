// The one way slipway runs another program: argv (never a shell string), environment
// to add and remove, working directory, stdin, a callback per output line, and a timeout
// that kills the whole process group. Used by buildpacks, the release phase and tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/overlay.hpp"
#include "common/owner.hpp"

namespace slipway {

// What a child does between fork and exec beyond the usual (its own process group, no
// descriptors of ours): how the sandbox launcher is started.
struct ChildSetup {
  // Descriptors the child keeps, under the same numbers (the argv names them): bubblewrap's
  // --args, --seccomp and data files. Shared, so copies of a Command keep them open.
  std::vector<std::shared_ptr<UniqueFd>> inherit;
  // Opened cgroup.procs files the child writes itself into before anything else.
  std::vector<std::shared_ptr<UniqueFd>> cgroups;
  // setrlimit(resource, value) for soft and hard limit, before the user changes.
  std::vector<std::pair<int, std::uint64_t>> rlimits;
  // Drop to this uid and gid, with no supplementary groups (slipway as root only).
  std::optional<Owner> user;
  // Mounted first, in a mount namespace of the child's own (slipway as root only).
  std::optional<OverlayMount> overlay;
};

struct Command {
  std::vector<std::string> argv;          // argv[0] is looked up in PATH when it has no '/'
  std::map<std::string, std::string> env; // set (or overwrite) in the child
  std::vector<std::string> env_remove;    // removed from the child's environment
  bool clear_env = false;                 // start from an empty environment, then `env`
  std::filesystem::path cwd;              // empty: inherit
  std::optional<std::string> stdin_data;  // nullopt: stdin is /dev/null
  // Called for every line of merged stdout+stderr as it arrives, without the newline.
  // A line longer than 64 KiB is delivered in pieces. Unset: output is collected in
  // ExitStatus::output instead.
  std::function<void(std::string_view)> on_line;
  // When set, stderr is kept apart from stdout and its lines are delivered here.
  std::function<void(std::string_view)> on_stderr_line;
  std::chrono::milliseconds timeout{0}; // 0: none; on expiry the process group is killed
  // Asked every `watch_interval` while the command runs: a reason to stop it (the process
  // group is killed, and ExitStatus::stopped_because says why), or nullopt to go on.
  std::function<std::optional<std::string>()> watch;
  std::chrono::milliseconds watch_interval{1000};
  // After the child exits, kill whatever it left running in its process group, so a
  // background job cannot keep the output pipe (and the caller) waiting.
  bool kill_group_on_exit = true;
  // Told the child's pid (also its process group id) once it has started, so another
  // thread can signal it while run() waits.
  std::function<void(int pid)> on_start;
  ChildSetup child;
};

struct ExitStatus {
  int code = 0;                // exit code, or 128 + signal
  int signal = 0;              // the signal that ended it, 0 if it exited
  bool timed_out = false;      // killed because Command::timeout passed
  std::string stopped_because; // killed because Command::watch said so, and why
  std::string output;          // merged output, when no on_line callback was given

  bool ok() const { return code == 0 && !timed_out && stopped_because.empty(); }
  // "exited with status 3", "was killed by signal 9", "timed out after 15m"
  std::string describe(std::chrono::milliseconds timeout = {}) const;
};

// Runs the command to completion. An Error means it could not be started at all;
// a non-zero exit is a normal ExitStatus.
Expected<ExitStatus> run(const Command& command);

// Starts `argv` fully detached — its own session, stdio on /dev/null, no descriptors of
// ours, not our child — and returns at once. For work that must not hold up the caller
// (git waits for everything that holds its stderr).
// `env` and `env_remove` change its environment as Command's do.
Expected<void> spawn_detached(const std::vector<std::string>& argv,
                              const std::map<std::string, std::string>& env = {},
                              const std::vector<std::string>& env_remove = {});

// A started child that the caller supervises (the daemon's processes, `slipway run`).
struct SpawnedProcess {
  int pid = -1;
  int pidfd = -1;     // readable once the child has exited; the caller closes it
  int output_fd = -1; // merged stdout+stderr, when captured; the caller closes it
};

struct SpawnOptions {
  // Merge stdout and stderr into a pipe (output_fd) and give stdin /dev/null. Otherwise the
  // child shares this process's stdio.
  bool capture_output = true;
  // Its own process group (as run() does), so a signal to the group reaches its whole tree.
  // Off for a foreground child of a terminal.
  bool new_process_group = true;
  // Sent to the child when this process dies (0: none).
  int death_signal = 0;
  // Pass on this process's ambient capabilities (systemd's AmbientCapabilities, e.g.
  // CAP_NET_BIND_SERVICE for nginx on port 80). Off: the child starts without them, as
  // bubblewrap requires of a non-setuid caller.
  bool keep_capabilities = false;
};

// Starts the command (Command's output callbacks and timeout do not apply) and returns at
// once. The child is ours to reap: waitpid(pid) once pidfd is readable, or wait_spawned().
Expected<SpawnedProcess> spawn(const Command& command, const SpawnOptions& options = {});

// Waits for a spawned child, closes its pidfd, and returns how it ended.
ExitStatus wait_spawned(SpawnedProcess& process);

// How a waitpid() status ended.
ExitStatus exit_status_of(int native_status);

} // namespace slipway
