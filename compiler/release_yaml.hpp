// What a buildpack's `bin/release` prints: YAML with `default_process_types` (process
// types the Procfile may override), legacy `config_vars` (defaults written to .profile.d)
// and `addons` (accepted and listed; slipway provisions none).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "compiler/procfile.hpp"

namespace slipway {

struct ReleaseInfo {
  ProcessTypes default_process_types;
  std::vector<std::pair<std::string, std::string>> config_vars;
  std::vector<std::string> addons;
};

// Empty output is an empty ReleaseInfo. Anything that is not a mapping of the keys above
// with scalar values is an error that names the key.
Expected<ReleaseInfo> parse_release_yaml(std::string_view text);

// A bash script that exports each config var unless the app's config already set it.
std::string
config_vars_profile_script(const std::vector<std::pair<std::string, std::string>>& vars);

bool is_config_var_name(std::string_view name);

} // namespace slipway
