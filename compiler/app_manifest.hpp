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

// The web health checks of the app in `app_dir` (its app.json, if any).
Expected<WebHealthChecks> web_health_checks(const std::filesystem::path& app_dir);

// One buildpack per line; '#' comments and blank lines allowed; whitespace inside a line is
// an error (a URL has none).
Expected<std::vector<std::string>> parse_buildpacks_file(std::string_view text);

// The BUILDPACK_URL of a Dokku `.env` file (`[export] BUILDPACK_URL=URL`, quoted or not),
// or nullopt; the file's other lines are the app's and are not read.
Expected<std::optional<std::string>> parse_dotenv_buildpack(std::string_view text);

// The buildpacks the app names for itself: `.buildpacks`, app.json `buildpacks` or `.env`'s
// BUILDPACK_URL, else nullopt. Naming them in two places is an error (which would win is
// not obvious).
Expected<std::optional<std::vector<std::string>>> app_buildpacks(const std::filesystem::path& app);

// Why no buildpack claimed the app in `app`: the files that show its language and the
// languages none of them builds (the table of buildpacks/procfile/languages).
std::string undetected_app(const std::filesystem::path& app);

} // namespace slipway
