// The daemon's first subscriber of the event stream: when an event says an app's settings
// or its live release changed, the daemon makes what runs match what is on disk. A command
// killed after it saved app.toml (or moved `current`) but before it asked the daemon to sync
// no longer leaves the daemon out of date; a command that did ask costs a check, not a
// reload of nginx.
#pragma once

#include <optional>
#include <string>

#include "runtime/daemon/apps.hpp"
#include "runtime/daemon/event_bus.hpp"

namespace slipway::daemon {

// The app an event asks to reconcile, if any: a destroyed app (data.app), a formation
// changed, a domain added or removed, a release that went live, succeeded or was rolled
// back.
std::optional<std::string> app_to_reconcile(const Event& event);

// The subscriber "reconciler": Apps::reconcile for each such event.
Subscriber reconciler(Apps& apps);

} // namespace slipway::daemon
