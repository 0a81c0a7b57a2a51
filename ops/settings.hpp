// What the operations share (not for front ends): recording an event by the context's actor,
// changing an app's settings under its lock, and telling a running daemon.
#pragma once

#include <functional>
#include <string>

#include "common/error.hpp"
#include "ops/context.hpp"
#include "runtime/apps.hpp"
#include "runtime/events.hpp"

namespace slipway::ops {

// Records `event` by the context's actor, after the change it describes is durable. The
// change stands when the stream cannot be written (a full disk): that is a warning.
void record(const Context& context, Event event);

// Changes the app's settings (formation, domains, access) under its deploy lock, records
// the event `change` returns (its app and actor are filled in here), and tells a running
// daemon.
Expected<void> change_settings(const Context& context, const std::string& app,
                               const std::function<Expected<Event>(AppInfo&)>& change);

// Asks a running daemon to bring the app's processes and routes in line with its settings
// and releases (none running: nothing to do).
Expected<void> tell_daemon(const Context& context, const std::string& app);

} // namespace slipway::ops
