// releaser.hpp's run_live_script: an app.json script run on the live release, apart from
// the paths that make releases.
#include "runtime/operation.hpp"
#include "runtime/releaser.hpp"

namespace slipway {

Expected<void> run_live_script(const ReleaseContext& context, const std::string& name,
                               const std::string& command) {
  auto operation = TRY(Operation::begin(context));
  auto live = TRY(operation.releases().live());
  if (!live || !live->has_slug()) {
    return fail("{} has no live release to run {} in", context.app, name);
  }
  auto ran = operation.run_postdeploy(*live, name, command);
  nlohmann::json data = {{"version", live->version}, {"script", name}};
  if (!ran) {
    data["reason"] = ran.error().message;
  }
  operation.record("release", ran ? "script_succeeded" : "script_failed", data);
  return ran;
}

} // namespace slipway
