// The release phase: the Procfile's `release:` command, run once per release before it
// goes live, in that release's environment (slug at /app, config vars, .profile.d), with
// its output streamed and kept. A failure or timeout keeps the release from going live.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/sandbox.hpp"
#include "runtime/release.hpp"

namespace slipway {

struct ReleasePhase {
  SandboxSettings sandbox;       // process_sandbox()
  std::filesystem::path app_dir; // the release's files, at /app; its writes are thrown away
  const Release& release;        // its release command runs, with its config, as release.1
  std::chrono::milliseconds timeout{0};
  std::filesystem::path log; // the whole output, kept for `releases:output`
  std::function<void(std::string_view)> on_output;
};

// Error messages: "release command exited with status 3", "release command timed out after 1h".
Expected<void> run_release_phase(const ReleasePhase& phase);

} // namespace slipway
