// `slipway daemon`: the dyno manager and router of one server. One Boost.Asio loop keeps
// every app's processes running from its live release (restarting crashed ones with
// backoff), owns an nginx in front of the web processes, and serves the CLI and the git
// hook on ROOT/run/slipway.sock (daemon_client.hpp). An activation through it starts the
// new release's processes, waits until its web processes answer, switches nginx, renames
// `current`, and only then stops the old processes.
#pragma once

#include "common/error.hpp"
#include "runtime/layout.hpp"

namespace slipway {

// Runs in the foreground until SIGTERM or SIGINT, then stops every process and nginx.
Expected<void> run_daemon(const Layout& layout);

} // namespace slipway
