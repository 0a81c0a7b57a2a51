// slipway: a self-hosted "git push to deploy" platform. One binary, Heroku-style commands.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "common/output.hpp"

namespace slipway::cli {

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
  add_init_command(app, globals, action);
  add_apps_commands(app, globals, action);
  add_build_command(app, globals, action);
  add_deploy_command(app, globals, action);
  add_releases_commands(app, globals, action);
  add_config_commands(app, globals, action);
  add_hook_commands(app, globals, action);
  add_daemon_command(app, globals, action);
  add_ps_commands(app, globals, action);
  add_logs_command(app, globals, action);
  add_events_command(app, globals, action);
  add_domains_commands(app, globals, action);
  add_keys_commands(app, globals, action);

  // The command word: "config:set" becomes the name CLI11 knows it by.
  std::vector<std::string> args(argv + 1, argv + argc);
  for (auto& arg : args) {
    auto named = [&](const CLI::App* command) { return command->get_name() == to_cli11_name(arg); };
    if (arg.find(':') != std::string::npos && !app.get_subcommands(named).empty()) {
      arg = to_cli11_name(arg);
      break;
    }
  }
  std::reverse(args.begin(), args.end()); // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    const CLI::App* chosen = &app;
    while (!chosen->get_subcommands().empty()) {
      chosen = chosen->get_subcommands().front();
    }
    std::fputs(from_cli11_text(chosen->help()).c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::puts("slipway " SLIPWAY_VERSION);
    return 0;
  } catch (const CLI::ParseError& error) {
    std::fprintf(stderr, "slipway: %s\n", from_cli11_text(error.what()).c_str());
    std::fprintf(stderr, "usage: see 'slipway --help'\n");
    return 2;
  }
  if (globals.root.empty()) {
    std::fprintf(stderr, "slipway: --root must name a directory, not ''\n");
    return 2;
  }
  auto done = action();
  if (!done) {
    // An empty message: the exit code speaks for itself (`run` returns its command's).
    if (!done.error().message.empty()) {
      std::fprintf(stderr, "%s\n", slipway::failure_line(done.error().message).c_str());
    }
    return done.error().exit_code;
  }
  return 0;
}
