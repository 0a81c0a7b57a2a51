// A command of a release run once, in a one-off process with that release's environment
// (slug at /app, config vars, .profile.d), its output streamed and kept: the release phase
// (the Procfile's `release:` command, before the release goes live; a failure or timeout
// keeps it from going live), and app.json's postdeploy scripts (after).
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
  const Release& release;        // whose config and files the command runs with
  std::string dyno = "release.1";
  std::string what = "release command"; // for the output and the errors
  std::string command;                  // empty: the release's release command
  std::chrono::milliseconds timeout{0};
  std::filesystem::path log; // the whole output, kept for `releases:output`
  std::function<void(std::string_view)> on_output;
};

// Error messages: "release command exited with status 3", "postdeploy script timed out after 1h".
Expected<void> run_release_phase(const ReleasePhase& phase);

} // namespace slipway
