#include "compiler/app_manifest.hpp"

#include <algorithm>
#include <array>

#include "common/lines.hpp"
#include "common/output.hpp"
#include "common/tree.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr std::array k_app_json_keys = {
    "name",        "description",  "keywords", "website",     "repository", "logo",
    "success_url", "scripts",      "env",      "formation",   "image",      "addons",
    "buildpacks",  "environments", "stack",    "healthchecks"};

// What Dokku's startup checks may say that slipway honours. Its timing keys (attempts,
// wait, timeout) are refused rather than ignored: slipway uses [runtime].health_timeout.
constexpr std::array k_health_check_keys = {"type", "name", "path", "content"};

std::string_view json_kind(const nlohmann::json& value) {
  return value.type_name();
}

Expected<HealthCheck> parse_health_checks(const nlohmann::json& checks) {
  if (!checks.is_object()) {
    return fail("app.json: 'healthchecks' must be an object, got {}", json_kind(checks));
  }
  HealthCheck result;
  for (const auto& [type, list] : checks.items()) {
    if (type != "web") {
      return fail("app.json: healthchecks for '{}': only the web process type is checked", type);
    }
    if (!list.is_array() || list.size() > 1) {
      return fail("app.json: 'healthchecks.web' must be a list of one check");
    }
    for (const auto& check : list) {
      if (!check.is_object()) {
        return fail("app.json: 'healthchecks.web[0]' must be an object, got {}", json_kind(check));
      }
      for (const auto& [key, value] : check.items()) {
        if (std::ranges::find(k_health_check_keys, key) == k_health_check_keys.end()) {
          return fail("app.json: 'healthchecks.web[0].{}' is not supported (use type, name, "
                      "path, content)",
                      key);
        }
        if (!value.is_string()) {
          return fail("app.json: 'healthchecks.web[0].{}' must be a string", key);
        }
      }
      if (check.value("type", "startup") != "startup") {
        return fail("app.json: health check type '{}' is not supported (only \"startup\")",
                    check["type"].get<std::string>());
      }
      std::string path = check.value("path", "");
      bool printable = std::ranges::all_of(
          path, [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
      if (!path.starts_with('/') || !printable || path.size() > 1024) {
        return fail("app.json: 'healthchecks.web[0].path' must be a URL path such as "
                    "\"/health\", got '{}'",
                    path);
      }
      result = {.path = path, .content = check.value("content", ""), .declared = true};
    }
  }
  return result;
}

} // namespace

Expected<AppJson> parse_app_json(std::string_view text) {
  AppJson manifest;
  try {
    manifest.document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    return fail("app.json: malformed JSON at byte {}", error.byte);
  }
  if (!manifest.document.is_object()) {
    return fail("app.json: expected an object at the top level, got {}",
                json_kind(manifest.document));
  }
  for (const auto& [key, value] : manifest.document.items()) {
    if (std::ranges::find(k_app_json_keys, key) == k_app_json_keys.end()) {
      return fail("app.json: unknown key '{}'", printable(key));
    }
  }
  if (auto it = manifest.document.find("buildpacks"); it != manifest.document.end()) {
    if (!it->is_array()) {
      return fail("app.json: 'buildpacks' must be a list, got {}", json_kind(*it));
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& entry = (*it)[i];
      auto url = entry.is_object() ? entry.find("url") : entry.end();
      if (!entry.is_object() || url == entry.end() || !url->is_string() ||
          url->get<std::string>().empty()) {
        return fail("app.json: 'buildpacks[{}]' must be an object with a 'url' string", i);
      }
      manifest.buildpacks.push_back(url->get<std::string>());
    }
  }
  if (auto it = manifest.document.find("healthchecks"); it != manifest.document.end()) {
    manifest.health_check = TRY(parse_health_checks(*it));
  }
  return manifest;
}

Expected<HealthCheck> web_health_check(const fs::path& app_dir) {
  auto text = TRY(read_beneath(app_dir, "app.json"));
  if (!text) {
    return HealthCheck{};
  }
  auto manifest = TRY(parse_app_json(*text));
  return manifest.health_check;
}

Expected<std::vector<std::string>> parse_buildpacks_file(std::string_view text) {
  std::vector<std::string> buildpacks;
  for (auto [line, number] : split_lines(text)) {
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') {
      continue;
    }
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    if (line.find_first_of(" \t") != std::string_view::npos) {
      return fail(".buildpacks line {}: '{}' is not a buildpack URL or name", number,
                  printable(line));
    }
    buildpacks.emplace_back(line);
  }
  return buildpacks;
}

Expected<std::optional<std::vector<std::string>>> app_buildpacks(const fs::path& app) {
  std::optional<std::vector<std::string>> from_file;
  auto buildpacks_text = TRY(read_beneath(app, ".buildpacks"));
  if (buildpacks_text) {
    from_file = TRY(parse_buildpacks_file(*buildpacks_text));
  }
  std::optional<std::vector<std::string>> from_manifest;
  auto manifest_text = TRY(read_beneath(app, "app.json"));
  if (manifest_text) {
    auto manifest = TRY(parse_app_json(*manifest_text));
    if (!manifest.buildpacks.empty()) {
      from_manifest = std::move(manifest.buildpacks);
    }
  }
  if (from_file && from_manifest) {
    return fail("the app names buildpacks in both .buildpacks and app.json; keep one");
  }
  if (from_file && from_file->empty()) {
    return fail(".buildpacks names no buildpack");
  }
  return from_file ? from_file : from_manifest;
}

} // namespace slipway
