// Config vars: read, set and unset. A change makes a release (runtime/releaser.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "compiler/release_yaml.hpp"
#include "ops/context.hpp"
#include "runtime/release.hpp"

namespace slipway::ops {

// The live release's config vars (none before the first release).
Expected<ConfigVars> config_vars(const Context& context, const std::string& app);

struct GetConfigVar {
  std::string app;
  std::string name;
};
Expected<std::string> config_var(const Context& context, const GetConfigVar& request);

struct ChangeConfig {
  std::string app;
  ConfigVars set;
  std::vector<std::string> unset;
};
// A new release with the live slug and the changed config (names validated; unsetting a name
// that is not set is a note); nullopt when nothing changed.
Expected<std::optional<Release>> change_config(const Context& context, const ChangeConfig& request);

} // namespace slipway::ops
