// `slipway daemon`: the dyno manager and router of one server. One Boost.Asio loop keeps
// every app's processes running from its live release (restarting crashed ones with
// backoff), owns an nginx in front of the web processes, and serves the CLI and the git
// hook on ROOT/run/slipway.sock (daemon_client.hpp). An activation through it starts the
// new release's processes, waits until its web processes answer, switches nginx, renames
// `current`, and only then stops the old processes.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "runtime/cluster_engine.hpp"
#include "runtime/layout.hpp"

namespace slipway {

// What the daemon runs beside its own loop, on threads of its own (the Platform API's HTTP
// server): started once the daemon is ready for requests and before it loads the apps, so
// that a failure to start (an address in use) stops the daemon at once; stopped first when
// the daemon stops, before any process.
struct DaemonService {
  std::string name;
  std::function<Expected<void>(const Config& config)> start;
  std::function<void()> stop;
};

// Makes the engine that apps whose scheduler is swarm run on (cluster/swarm.hpp's), from
// slipway.toml; an error says why there is none, and those apps' releases cannot start.
using ClusterEngineFactory =
    std::function<Expected<std::unique_ptr<ClusterEngine>>(const Layout&, const Config&)>;

// Runs in the foreground until SIGTERM or SIGINT, then stops every process and nginx. A
// cluster's tasks are left running: they are the cluster's, and the next daemon adopts them.
Expected<void> run_daemon(const Layout& layout, std::vector<DaemonService> services = {},
                          ClusterEngineFactory cluster = {});

} // namespace slipway
