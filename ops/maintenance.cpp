#include "ops/maintenance.hpp"

#include "ops/rights.hpp"
#include "ops/settings.hpp"
#include "runtime/apps.hpp"
#include "runtime/deploy_lock.hpp"

namespace slipway::ops {

Expected<bool> maintenance(const Context& context, const std::string& app) {
  TRY(authorize(context, "maintenance", app));
  auto info = TRY(app_info(context.layout, app));
  return info.maintenance;
}

Expected<bool> set_maintenance(const Context& context, const MaintenanceChange& request) {
  TRY(authorize(context, request.on ? "maintenance:on" : "maintenance:off", request.app));
  bool changed = false;
  {
    // change_settings, but for a request that changes nothing: no event for it.
    auto lock = TRY(lock_app(context.layout, request.app, context.wait, context.on_output));
    auto info = TRY(app_info(context.layout, request.app));
    if (info.maintenance != request.on) {
      info.maintenance = request.on;
      TRY(save_app_info(context.layout, info));
      record(context,
             {.app = request.app,
              .resource = "maintenance",
              .action = request.on ? "enabled" : "disabled",
              .data = {{"maintenance", request.on},
                       {"message", request.on ? "Maintenance mode on" : "Maintenance mode off"}}});
      changed = true;
    }
  }
  // Told even when nothing changed: a daemon that missed the change catches up.
  TRY(tell_daemon(context, request.app));
  return changed;
}

} // namespace slipway::ops
