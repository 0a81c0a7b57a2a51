// What an app says about itself in its files: which buildpacks (a `.buildpacks` file, one
// per line, or app.json `buildpacks`), and its app.json (compiler/app_json.hpp).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "compiler/app_json.hpp"

namespace slipway {

// The app.json of the app in `app_dir`, or nullopt when it has none.
Expected<std::optional<AppJson>> read_app_json(const std::filesystem::path& app_dir);

// The web health check of the app in `app_dir` (its app.json, if any).
Expected<HealthCheck> web_health_check(const std::filesystem::path& app_dir);

// One buildpack per line; '#' comments and blank lines allowed; whitespace inside a line is
// an error (a URL has none).
Expected<std::vector<std::string>> parse_buildpacks_file(std::string_view text);

// The buildpacks the app names for itself: `.buildpacks`, else app.json `buildpacks`, else
// nullopt. Naming them in both places is an error (which would win is not obvious).
Expected<std::optional<std::vector<std::string>>> app_buildpacks(const std::filesystem::path& app);

} // namespace slipway
