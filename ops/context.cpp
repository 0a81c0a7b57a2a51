#include "ops/context.hpp"

#include <cstdlib>

#include "runtime/events.hpp"
#include "runtime/keys.hpp"

namespace slipway::ops {

std::string Actor::describe() const {
  return local ? fmt::format("the local user '{}'", name) : fmt::format("key '{}'", name);
}

ReleaseContext Context::release_context(const std::string& app) const {
  return {.layout = layout,
          .config = config,
          .app = app,
          .wait = wait,
          .user = actor.name,
          .on_output = on_output};
}

Expected<Context> open_context(const Layout& layout, std::string_view key_name,
                               OutputFn on_output) {
  Actor actor;
  if (key_name.empty()) {
    actor = {.name = local_actor(), .admin = true, .local = true};
  } else {
    auto key = find_key(layout, std::string(key_name));
    if (!key) {
      return fail("key '{}' is not known to slipway (was it removed?)", key_name);
    }
    actor = {.name = key->name, .admin = key->admin};
  }
  auto config = TRY(layout.config());
  return Context{.layout = layout,
                 .config = std::move(config),
                 .actor = std::move(actor),
                 .on_output = on_output ? std::move(on_output) : [](std::string_view) {}};
}

std::string acting_key_from_environment() {
  const char* user = std::getenv("SLIPWAY_USER");
  return user ? user : "";
}

} // namespace slipway::ops
