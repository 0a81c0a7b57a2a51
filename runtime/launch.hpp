// How a release's process runs, the way a dyno does: the slug at /app in the sandbox,
// config vars and PORT/DYNO in the environment, then /app/.profile.d/*.sh sourced in
// lexical order, then the command under `bash -c`.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "common/sandbox.hpp"
#include "common/subprocess.hpp"

namespace slipway {

struct LaunchSpec {
  SandboxMode sandbox = SandboxMode::bwrap;
  std::filesystem::path app_dir;          // the unpacked slug
  std::string command;                    // a Procfile command line
  std::map<std::string, std::string> env; // config vars, PORT, DYNO, ...
};

// A Command ready for run() or for a supervisor; its output settings are the caller's.
Command launch_command(const LaunchSpec& spec);

} // namespace slipway
