// How a release's process runs, the way a dyno does: the slug at /app in the sandbox,
// config vars and PORT/DYNO in the environment, then /app/.profile.d/*.sh sourced in
// lexical order, then the command under `bash -c`.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "common/config.hpp"
#include "common/sandbox.hpp"
#include "common/subprocess.hpp"
#include "runtime/layout.hpp"

namespace slipway {

struct LaunchSpec {
  SandboxSettings sandbox;
  std::filesystem::path app_dir;          // the process's own /app (ProcessFiles::app)
  std::string command;                    // a Procfile command line
  std::map<std::string, std::string> env; // config vars, PORT, DYNO, ...
};

// A Command ready for run() or for a supervisor; its output settings are the caller's.
// An environment too large to start a process with is an error that says so.
Expected<Command> launch_command(const LaunchSpec& spec);

// The sandbox one of the app's processes runs in (a dyno, the release phase, `run`): the
// app's uid, [runtime] limits, and where cgroups can be made, a memory cgroup of its own
// named `name` ("web.1-7"), which the caller removes once the process has ended.
Expected<SandboxSettings> process_sandbox(const Layout& layout, const Config& config,
                                          const std::string& app, std::string_view name);

} // namespace slipway
