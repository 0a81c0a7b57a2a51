#include "runtime/release.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "common/time.hpp"
#include "runtime/app_name.hpp"

namespace slipway {

namespace {

Expected<std::string> optional_string(const toml::table& table, std::string_view key,
                                      std::string_view origin) {
  const toml::node* node = table.get(key);
  if (!node) {
    return std::string();
  }
  if (auto value = node->value_exact<std::string>()) {
    return *value;
  }
  return fail("{}: '{}' must be a string", origin, key);
}

Expected<std::vector<std::pair<std::string, std::string>>>
string_table(const toml::table& table, std::string_view key, std::string_view origin) {
  std::vector<std::pair<std::string, std::string>> out;
  const toml::node* node = table.get(key);
  if (!node) {
    return out;
  }
  const auto* inner = node->as_table();
  if (!inner) {
    return fail("{}: '{}' must be a table", origin, key);
  }
  for (const auto& [name, value] : *inner) {
    auto text = value.value_exact<std::string>();
    if (!text) {
      return fail("{}: '{}.{}' must be a string", origin, key, name.str());
    }
    out.emplace_back(std::string(name.str()), *text);
  }
  return out;
}

} // namespace

std::string_view to_string(ReleaseStatus status) {
  switch (status) {
  case ReleaseStatus::pending:
    return "pending";
  case ReleaseStatus::succeeded:
    return "succeeded";
  case ReleaseStatus::failed:
    return "failed";
  }
  return "unknown";
}

std::string release_to_toml(const Release& release) {
  toml::table table{
      {"version", release.version},
      {"status", std::string(to_string(release.status))},
      {"description", release.description},
      {"created_at", to_toml_time(release.created_at)},
  };
  auto put = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) {
      table.insert(key, value);
    }
  };
  put("commit", release.commit);
  put("slug", release.slug);
  put("slug_file", release.slug_file);
  put("stack", release.stack);
  put("release_command", release.release_command);
  put("reason", release.reason);
  put("user", release.user);
  if (release.promoted_from) {
    table.insert("promoted_from", toml::table{{"app", release.promoted_from->app},
                                              {"version", release.promoted_from->version}});
  }
  toml::array buildpacks;
  for (const auto& buildpack : release.buildpacks) {
    buildpacks.push_back(buildpack);
  }
  table.insert("buildpacks", std::move(buildpacks));
  // Process types keep their Procfile order in the file's `order` key; TOML tables do not.
  toml::table types;
  toml::array order;
  for (const auto& [name, command] : release.process_types) {
    types.insert(name, command);
    order.push_back(name);
  }
  table.insert("process_order", std::move(order));
  table.insert("process_types", std::move(types));
  toml::table config;
  for (const auto& [name, value] : release.config) {
    config.insert(name, value);
  }
  table.insert("config", std::move(config));
  std::ostringstream out;
  out << toml::toml_formatter(table) << '\n';
  return out.str();
}

Expected<Release> release_from_toml(std::string_view text, std::string_view origin) {
  toml::table table;
  try {
    table = toml::parse(text, origin);
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt: line {}: {}", origin, error.source().begin.line,
                error.description());
  }
  static const std::set<std::string, std::less<>> known = {
      "version",       "status",        "description",     "created_at",   "commit", "slug",
      "slug_file",     "stack",         "release_command", "reason",       "user",   "buildpacks",
      "process_order", "process_types", "config",          "promoted_from"};
  for (const auto& [key, value] : table) {
    if (!known.contains(key.str())) {
      return fail("{}: unknown key '{}'", origin, key.str());
    }
  }
  Release release;
  auto version = table["version"].value_exact<std::int64_t>();
  if (!version || *version < 1 || *version > std::numeric_limits<int>::max()) {
    return fail("{} is corrupt: 'version' must be a positive integer", origin);
  }
  release.version = static_cast<int>(*version);
  auto status = table["status"].value_exact<std::string>();
  if (status == "pending") {
    release.status = ReleaseStatus::pending;
  } else if (status == "succeeded") {
    release.status = ReleaseStatus::succeeded;
  } else if (status == "failed") {
    release.status = ReleaseStatus::failed;
  } else {
    return fail("{} is corrupt: 'status' must be pending, succeeded or failed", origin);
  }
  auto description = table["description"].value_exact<std::string>();
  auto created = table["created_at"].value_exact<toml::date_time>();
  if (!description || !created) {
    return fail("{} is corrupt: 'description' and 'created_at' are required", origin);
  }
  release.description = *description;
  release.created_at = from_toml_time(*created);

  for (auto [key, field] : {std::pair{"commit", &release.commit},
                            {"slug", &release.slug},
                            {"slug_file", &release.slug_file},
                            {"stack", &release.stack},
                            {"release_command", &release.release_command},
                            {"reason", &release.reason},
                            {"user", &release.user}}) {
    *field = TRY(optional_string(table, key, origin));
  }
  if (const toml::node* node = table.get("buildpacks")) {
    const auto* array = node->as_array();
    if (!array) {
      return fail("{}: 'buildpacks' must be an array of strings", origin);
    }
    for (const auto& item : *array) {
      auto name = item.value_exact<std::string>();
      if (!name) {
        return fail("{}: 'buildpacks' must be an array of strings", origin);
      }
      release.buildpacks.push_back(*name);
    }
  }
  if (const toml::node* node = table.get("promoted_from")) {
    const toml::table* from = node->as_table();
    auto app = from ? (*from)["app"].value_exact<std::string>() : std::nullopt;
    auto version = from ? (*from)["version"].value_exact<std::int64_t>() : std::nullopt;
    if (!from || from->size() != 2 || !app || !validate_app_name(*app) || !version ||
        *version < 1 || *version > std::numeric_limits<int>::max()) {
      return fail("{}: 'promoted_from' must be {{ app = NAME, version = N }}", origin);
    }
    release.promoted_from = PromotedFrom{*app, static_cast<int>(*version)};
  }
  auto types = TRY(string_table(table, "process_types", origin));
  // Declared order first, then anything the order does not name.
  if (const auto* order = table["process_order"].as_array()) {
    for (const auto& item : *order) {
      auto name = item.value_exact<std::string>().value_or("");
      auto it = std::ranges::find(types, name, &std::pair<std::string, std::string>::first);
      if (it != types.end()) {
        release.process_types.push_back(*it);
        types.erase(it);
      }
    }
  }
  release.process_types.insert(release.process_types.end(), types.begin(), types.end());
  auto config = TRY(string_table(table, "config", origin));
  release.config.insert(config.begin(), config.end());
  if (!release.has_slug() && !release.slug_file.empty()) {
    return fail("{} is corrupt: 'slug_file' without 'slug'", origin);
  }
  if (release.has_slug()) {
    // slug_file becomes a path under slugs/: it must be exactly the slug's own name.
    std::string_view slug = release.slug;
    std::string_view hex = slug.starts_with("sha256:") ? slug.substr(7) : std::string_view();
    bool valid = hex.size() == 64 &&
                 hex.find_first_not_of("0123456789abcdef") == std::string_view::npos &&
                 (release.slug_file == fmt::format("{}.tar.zst", hex) ||
                  release.slug_file == fmt::format("{}.tar.gz", hex));
    if (!valid) {
      return fail("{} is corrupt: 'slug' and 'slug_file' do not name a slug", origin);
    }
  }
  return release;
}

} // namespace slipway
