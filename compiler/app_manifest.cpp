#include "compiler/app_manifest.hpp"

#include <algorithm>
#include <ranges>

#include <fmt/ranges.h>

#include "common/files.hpp"
#include "common/lines.hpp"
#include "common/output.hpp"
#include "common/paths.hpp"
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

Expected<WebHealthChecks> web_health_checks(const fs::path& app_dir) {
  auto text = TRY(read_beneath(app_dir, "app.json"));
  return text ? parse_web_health_checks(*text) : WebHealthChecks{};
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

Expected<std::optional<std::string>> parse_dotenv_buildpack(std::string_view text) {
  constexpr std::string_view key = "BUILDPACK_URL";
  std::optional<std::string> url;
  for (auto [line, number] : split_lines(text)) {
    std::string_view body = trim(line, " \t\r");
    if (body.starts_with("export ") || body.starts_with("export\t")) {
      body = trim(body.substr(7));
    }
    auto equals = body.find('=');
    if (equals == std::string_view::npos || trim(body.substr(0, equals)) != key) {
      continue; // not ours: the rest of .env is for the app's own tools
    }
    std::string_view value = trim(body.substr(equals + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    if (value.empty() || value.find_first_of(" \t\"'$`\\") != std::string_view::npos) {
      return fail(".env line {}: BUILDPACK_URL '{}' is not one buildpack URL or name", number,
                  printable(value));
    }
    if (url) {
      return fail(".env line {}: BUILDPACK_URL is set twice", number);
    }
    url = std::string(value);
  }
  return url;
}

Expected<std::optional<std::vector<std::string>>> app_buildpacks(const fs::path& app) {
  std::vector<std::pair<std::string_view, std::vector<std::string>>> named;
  if (auto text = TRY(read_beneath(app, ".buildpacks"))) {
    auto listed = TRY(parse_buildpacks_file(*text));
    if (listed.empty()) {
      return fail(".buildpacks names no buildpack");
    }
    named.emplace_back(".buildpacks", std::move(listed));
  }
  auto manifest = TRY(read_app_json(app));
  if (manifest && !manifest->buildpacks.empty()) {
    named.emplace_back("app.json", std::move(manifest->buildpacks));
  }
  if (auto text = TRY(read_beneath(app, ".env"))) {
    if (auto url = TRY(parse_dotenv_buildpack(*text))) {
      named.emplace_back(".env (BUILDPACK_URL)", std::vector{*url});
    }
  }
  if (named.size() > 1) {
    return fail("the app names buildpacks in both {} and {}; keep one", named[0].first,
                named[1].first);
  }
  if (named.empty()) {
    return std::nullopt;
  }
  return std::move(named.front().second);
}

std::string undetected_app(const fs::path& app) {
  std::vector<std::pair<std::string, std::string>> markers; // file, language
  auto table = read_file(builtin_buildpacks_dir() / "procfile/languages");
  std::string text = table ? std::move(*table) : std::string();
  for (auto [line, number] : split_lines(text)) {
    auto end = line.find_first_of(" \t");
    if (line.empty() || line.front() == '#' || end == std::string_view::npos) {
      continue;
    }
    auto language = line.substr(line.find_first_not_of(" \t", end));
    markers.emplace_back(line.substr(0, end), language);
  }
  std::vector<std::string> found;
  std::vector<std::string> languages;
  std::error_code ec;
  if (fs::is_regular_file(app / "Procfile", ec)) {
    found.emplace_back("Procfile");
  }
  for (const auto& [file, language] : markers) {
    if (fs::exists(fs::symlink_status(app / file, ec))) {
      found.push_back(fmt::format("{} ({})", file, language));
      if (std::ranges::find(languages, language) == languages.end()) {
        languages.push_back(language);
      }
    }
  }
  if (languages.empty()) {
    std::vector<std::string> examples;
    for (const auto& [file, language] : markers | std::views::take(8)) {
      examples.push_back(file);
    }
    return fmt::format("no buildpack applies to this app: it has {} and none of {}, ... that "
                       "show its language",
                       found.empty() ? "no Procfile" : "a Procfile", fmt::join(examples, ", "));
  }
  return fmt::format("no buildpack applies to this app: found {}; none of the buildpacks tried "
                     "builds {}: name one by its git URL in app.json \"buildpacks\" or "
                     ".buildpacks (or --buildpack URL)",
                     fmt::join(found, ", "), fmt::join(languages, " or "));
}

} // namespace slipway
