#include "ops/settings.hpp"

#include "runtime/daemon_client.hpp"
#include "runtime/deploy_lock.hpp"

namespace slipway::ops {

void record(const Context& context, Event event) {
  event.actor = context.actor.name;
  if (auto recorded = record_event(context.layout, context.config, std::move(event)); !recorded) {
    context.on_output("warning: " + recorded.error().message);
  }
}

Expected<void> change_settings(const Context& context, const std::string& app,
                               const std::function<Expected<Event>(AppInfo&)>& change) {
  {
    auto lock = TRY(lock_app(context.layout, app, context.wait, context.on_output));
    auto info = TRY(app_info(context.layout, app));
    auto event = TRY(change(info));
    TRY(save_app_info(context.layout, info));
    event.app = app;
    record(context, std::move(event));
  }
  return tell_daemon(context, app);
}

Expected<void> tell_daemon(const Context& context, const std::string& app) {
  TRY(sync_daemon(context.layout, app, context.on_output));
  return {};
}

} // namespace slipway::ops
