// Maintenance mode, as Heroku's: while it is on, the router answers every request for the
// app's host names with 503 and a maintenance page. Its processes keep running, and deploys,
// scaling and one-off processes work as usual, so that a migration can run behind it.
#pragma once

#include <string>

#include "common/error.hpp"
#include "ops/context.hpp"

namespace slipway::ops {

// Whether the app's maintenance mode is on.
Expected<bool> maintenance(const Context& context, const std::string& app);

struct MaintenanceChange {
  std::string app;
  bool on = false;
};
// Turns it on or off: kept in app.toml (so a restarted daemon keeps it), recorded as a
// `maintenance.enabled` / `maintenance.disabled` event, and the daemon told. Returns whether
// it changed: asking for the mode the app is already in records nothing.
Expected<bool> set_maintenance(const Context& context, const MaintenanceChange& request);

} // namespace slipway::ops
