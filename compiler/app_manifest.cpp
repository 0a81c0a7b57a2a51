#include "compiler/app_manifest.hpp"

#include "common/lines.hpp"
#include "common/output.hpp"
#include "common/tree.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<std::optional<AppJson>> read_app_json(const fs::path& app_dir) {
  auto text = TRY(read_beneath(app_dir, "app.json"));
  if (!text) {
    return std::optional<AppJson>();
  }
  auto manifest = TRY(parse_app_json(*text));
  return std::optional<AppJson>(std::move(manifest));
}

Expected<HealthCheck> web_health_check(const fs::path& app_dir) {
  auto text = TRY(read_beneath(app_dir, "app.json"));
  return text ? parse_web_health_check(*text) : HealthCheck{};
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
  auto manifest = TRY(read_app_json(app));
  if (manifest && !manifest->buildpacks.empty()) {
    from_manifest = std::move(manifest->buildpacks);
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
