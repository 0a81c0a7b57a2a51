// daemon: the dyno manager and router, in the foreground
#include "cli/cli.hpp"
#include "runtime/daemon.hpp"

namespace slipway::cli {

void add_daemon_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* daemon = app.add_subcommand(
      "daemon", "run every app's processes and the router (foreground, until SIGTERM)");
  daemon->callback([&] { action = [&globals] { return run_daemon(globals.layout()); }; });
}

} // namespace slipway::cli
