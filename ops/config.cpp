#include "ops/config.hpp"

#include "ops/rights.hpp"
#include "runtime/release_store.hpp"
#include "runtime/releaser.hpp"

namespace slipway::ops {

namespace {

Expected<ConfigVars> live_config(const Context& context, const std::string& app) {
  auto live = TRY(ReleaseStore(context.layout, app).live());
  return live ? live->config : ConfigVars{};
}

} // namespace

Expected<ConfigVars> config_vars(const Context& context, const std::string& app) {
  TRY(authorize(context, "config", app));
  return live_config(context, app);
}

Expected<std::string> config_var(const Context& context, const GetConfigVar& request) {
  TRY(authorize(context, "config:get", request.app));
  auto config = TRY(live_config(context, request.app));
  auto it = config.find(request.name);
  if (it == config.end()) {
    return fail("config var '{}' is not set", request.name);
  }
  return it->second;
}

Expected<std::optional<Release>> change_config(const Context& context,
                                               const ChangeConfig& request) {
  TRY(authorize(context, request.set.empty() ? "config:unset" : "config:set", request.app));
  return slipway::change_config(context.release_context(request.app), request.set, request.unset);
}

} // namespace slipway::ops
