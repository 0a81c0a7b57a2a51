// The daemon's part in git-host connections, on a thread of its own: posts the commit
// statuses the event stream calls for (git_host_statuses.hpp), in order, from a durable
// cursor, so that a restart neither repeats nor skips one; and every few seconds tends the
// connections (ops/connections.hpp: polls due, workers to start again).
#pragma once

#include "runtime/daemon.hpp"

namespace slipway::notify {

DaemonService git_host_service(const Layout& layout);

} // namespace slipway::notify
