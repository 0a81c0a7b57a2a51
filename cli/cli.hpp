// The `slipway` command line: global options and how each command registers itself.
#pragma once

#include <filesystem>
#include <functional>

#include <CLI/CLI.hpp>

#include "common/config.hpp"
#include "common/error.hpp"

namespace slipway::cli {

struct Globals {
  std::filesystem::path root; // --root, $SLIPWAY_ROOT, ~/.slipway

  // ROOT/slipway.toml, or every default when it does not exist.
  Expected<Config> config() const;
};

// A command's action: its error, if any, becomes one line on stderr and the exit code.
using Action = std::function<Expected<void>()>;

// Each command file adds its subcommand and sets `action` when it is chosen.
void add_build_command(CLI::App& app, const Globals& globals, Action& action);

} // namespace slipway::cli
