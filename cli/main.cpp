// slipway: a self-hosted "git push to deploy" platform. One binary, Heroku-style commands.
#include <cstdio>
#include <cstdlib>

#include "cli/cli.hpp"
#include "common/output.hpp"

namespace slipway::cli {

Expected<Config> Globals::config() const {
  return load_config(root / "slipway.toml");
}

namespace {

std::filesystem::path default_root() {
  if (const char* env = std::getenv("SLIPWAY_ROOT"); env && *env) {
    return env;
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/") / ".slipway";
}

} // namespace

} // namespace slipway::cli

int main(int argc, char** argv) {
  using namespace slipway::cli;
  CLI::App app("slipway: git push to deploy, on your own server", "slipway");
  app.require_subcommand(1);
  app.set_version_flag("--version", "slipway " SLIPWAY_VERSION);
  Globals globals{default_root()};
  app.add_option("--root", globals.root, "slipway's data directory ($SLIPWAY_ROOT, ~/.slipway)");

  Action action;
  add_build_command(app, globals, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::puts("slipway " SLIPWAY_VERSION);
    return 0;
  } catch (const CLI::ParseError& error) {
    std::fprintf(stderr, "slipway: %s\n", error.what());
    std::fprintf(stderr, "usage: see 'slipway --help'\n");
    return 2;
  }
  auto done = action();
  if (!done) {
    std::fprintf(stderr, "%s\n", slipway::failure_line(done.error().message).c_str());
    return done.error().exit_code;
  }
  return 0;
}
