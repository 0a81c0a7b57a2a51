// daemon: the dyno manager and router, with the Platform API, in the foreground
#include "api/platform.hpp"
#include "cli/cli.hpp"
#include "cluster/swarm.hpp"
#include "notify/git_host_service.hpp"
#include "notify/webhook_service.hpp"
#include "runtime/daemon.hpp"

namespace slipway::cli {

void add_daemon_command(CLI::App& app, const Globals& globals, Action& action) {
  auto* daemon = app.add_subcommand(
      "daemon", "run every app's processes and the router (foreground, until SIGTERM)");
  daemon->callback([&] {
    action = [&globals] {
      auto layout = globals.layout();
      return run_daemon(
          layout,
          {api::platform_service(layout), notify::git_host_service(layout),
           notify::webhook_service(layout)},
          [](const Layout& root, const Config& config) -> Expected<std::unique_ptr<ClusterEngine>> {
            return TRY(cluster::SwarmEngine::open(root, config));
          });
    };
  });
}

} // namespace slipway::cli
