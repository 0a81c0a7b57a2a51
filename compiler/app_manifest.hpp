// What an app says about how to build it: a `.buildpacks` file (one buildpack per line) or
// the `buildpacks` of its app.json (Heroku's app manifest). Later parts of slipway read more
// of app.json (env, formation, scripts); this is where it is parsed and validated.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace slipway {

// What a new web process must answer before it takes traffic. Declared in app.json the way
// Dokku reads it: `"healthchecks": {"web": [{"type": "startup", "path": "/health",
// "content": "ok"}]}`; otherwise any HTTP answer below 500 on "/".
struct HealthCheck {
  std::string path = "/";
  std::string content; // a string the body must contain; empty: any body
  bool declared = false;
};

struct AppJson {
  std::vector<std::string> buildpacks; // the `url` of each entry, in order
  HealthCheck health_check;
  nlohmann::json document; // the whole manifest, validated at the top level
};

// Rejects malformed JSON, a top level that is not an object, keys outside Heroku's app.json
// schema, and a `buildpacks` that is not a list of {"url": "..."} objects.
Expected<AppJson> parse_app_json(std::string_view text);

// The web health check of the app in `app_dir` (its app.json, if any).
Expected<HealthCheck> web_health_check(const std::filesystem::path& app_dir);

// One buildpack per line; '#' comments and blank lines allowed; whitespace inside a line is
// an error (a URL has none).
Expected<std::vector<std::string>> parse_buildpacks_file(std::string_view text);

// The buildpacks the app names for itself: `.buildpacks`, else app.json `buildpacks`, else
// nullopt. Naming them in both places is an error (which would win is not obvious).
Expected<std::optional<std::vector<std::string>>> app_buildpacks(const std::filesystem::path& app);

} // namespace slipway
