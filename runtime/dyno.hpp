// What the daemon's processes and `slipway run`'s one-off process share: the release's
// files unpacked once, a throwaway /app per process start (writes vanish at restart and never
// reach the release), and the environment a process of the release gets.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/overlay.hpp"
#include "common/owner.hpp"
#include "common/sandbox.hpp"
#include "common/subprocess.hpp"
#include "runtime/layout.hpp"
#include "runtime/release.hpp"

namespace slipway {

// releases/vN/app, unpacked from the release's slug the first time it is needed. Safe to
// call from several processes at once: each unpacks aside and the first rename wins. When
// sandboxes switch to the app's uid, what is inside belongs to that uid (a process may write
// its files, on its own /app), while releases/vN/app itself is root's, mode 0700: the uid
// cannot reach the stored files on the host.
Expected<std::filesystem::path> ensure_unpacked(const Layout& layout, const Config& config,
                                                const std::string& app, const Release& release);

// One process start's files, all beneath `root` (removed when the process has ended). The
// sandbox binds `app` at /app: an overlay of the unpacked release when slipway can mount one
// (as root), else a copy of it.
struct ProcessFiles {
  std::filesystem::path root;
  std::filesystem::path app;
  // Set on the process's Command (ChildSetup::overlay); nullopt: `app` is a copy.
  std::optional<OverlayMount> overlay;
};
Expected<ProcessFiles> make_process_files(const std::filesystem::path& unpacked,
                                          const std::filesystem::path& root, Owner owner);

struct ProcessSpec {
  const Release& release;
  std::string dyno; // "web.1", "run.4711"
  std::string command;
  int port = 0;              // 0: no PORT
  const ProcessFiles& files; // make_process_files()
  SandboxSettings sandbox;   // process_sandbox()
  // Set over the config vars (`run -e NAME=VALUE`); DYNO, PORT and SLIPWAY_RELEASE win.
  std::vector<std::pair<std::string, std::string>> env;
};

// The sandboxed command that runs `spec` the way a dyno runs: config vars, PORT, DYNO,
// SLIPWAY_RELEASE, .profile.d sourced.
Expected<Command> process_command(const ProcessSpec& spec);

// How long a process that crashed `crashes` times in a row waits before it starts again:
// the first crash restarts at once, then 1 s, 2 s, 4 s… up to 5 minutes.
std::chrono::milliseconds restart_delay(int crashes);

} // namespace slipway
