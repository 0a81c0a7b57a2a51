#include "compiler/app_manifest.hpp"

#include <array>

#include "common/atomic_file.hpp"
#include "common/lines.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr std::array k_app_json_keys = {"name",       "description",  "keywords",    "website",
                                        "repository", "logo",         "success_url", "scripts",
                                        "env",        "formation",    "image",       "addons",
                                        "buildpacks", "environments", "stack"};

std::string_view json_kind(const nlohmann::json& value) {
  return value.type_name();
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
      return fail("app.json: unknown key '{}'", key);
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
  return manifest;
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
      return fail(".buildpacks line {}: '{}' is not a buildpack URL or name", number, line);
    }
    buildpacks.emplace_back(line);
  }
  return buildpacks;
}

Expected<std::optional<std::vector<std::string>>> app_buildpacks(const fs::path& app) {
  std::error_code ec;
  std::optional<std::vector<std::string>> from_file;
  if (fs::is_regular_file(app / ".buildpacks", ec)) {
    auto text = read_file(app / ".buildpacks");
    if (!text) {
      return std::unexpected(text.error());
    }
    auto list = parse_buildpacks_file(*text);
    if (!list) {
      return std::unexpected(list.error());
    }
    from_file = std::move(*list);
  }
  std::optional<std::vector<std::string>> from_manifest;
  if (fs::is_regular_file(app / "app.json", ec)) {
    auto text = read_file(app / "app.json");
    if (!text) {
      return std::unexpected(text.error());
    }
    auto manifest = parse_app_json(*text);
    if (!manifest) {
      return std::unexpected(manifest.error());
    }
    if (!manifest->buildpacks.empty()) {
      from_manifest = std::move(manifest->buildpacks);
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
