#include "runtime/review_apps.hpp"

#include <algorithm>
#include <sstream>

#include <toml++/toml.h>

#include "common/files.hpp"
#include "common/hash.hpp"
#include "compiler/release_yaml.hpp"
#include "runtime/app_name.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<std::string> review_app_name(std::string_view pipeline, std::string_view branch,
                                      const std::function<bool(const std::string&)>& taken) {
  std::string name;
  for (char c : fmt::format("{}-{}", pipeline, branch)) {
    char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    bool valid = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
    if (valid) {
      name += lower;
    } else if (!name.empty() && name.back() != '-') {
      name += '-';
    }
  }
  while (!name.empty() && name.back() == '-') {
    name.pop_back();
  }
  const std::string suffix = "-" + sha256_hex(branch).substr(0, 7);
  auto shortened = [&] {
    std::string cut = name.substr(0, k_max_app_name - suffix.size());
    while (!cut.empty() && cut.back() == '-') {
      cut.pop_back();
    }
    return cut + suffix;
  };
  if (name.size() > k_max_app_name || (validate_app_name(name) && taken(name))) {
    name = shortened();
  }
  TRY(validate_app_name(name)); // the pipeline's name is one, so this holds
  if (taken(name)) {
    return fail_as(ErrorKind::conflict,
                   "no name is left for the review app of branch '{}': {} is taken", branch, name);
  }
  return name;
}

std::optional<PipelineMember> review_parent(const Layout& layout, const std::string& pipeline_id) {
  auto members = pipeline_members(layout, pipeline_id); // by stage, then name
  for (Stage stage : {Stage::development, Stage::staging}) {
    auto found = std::ranges::find_if(
        members, [&](const PipelineMember& member) { return member.coupling.stage == stage; });
    if (found != members.end()) {
      return *found;
    }
  }
  return std::nullopt;
}

std::vector<ReviewApp> review_apps_of(const Layout& layout, const std::string& pipeline_id) {
  std::vector<ReviewApp> apps;
  for (const auto& member : pipeline_members(layout, pipeline_id)) {
    if (member.coupling.stage != Stage::review) {
      continue;
    }
    if (auto info = app_info(layout, member.app); info && info->review) {
      apps.push_back({.app = member.app, .app_id = member.app_id, .origin = *info->review});
    }
  }
  std::ranges::sort(apps, {}, &ReviewApp::app);
  return apps;
}

Expected<ConfigVars> load_review_config(const Layout& layout, const std::string& pipeline_id) {
  fs::path file = layout.review_config_file(pipeline_id);
  ConfigVars config;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return config;
  }
  auto text = TRY(read_file(file));
  std::string origin = file.string();
  try {
    auto table = toml::parse(text, origin);
    for (const auto& [key, value] : table) {
      auto string = value.value_exact<std::string>();
      if (!is_config_var_name(key.str()) || !string) {
        return fail("{}: '{}' must be a config var name with a string value", origin,
                    key.str().substr(0, 64));
      }
      config[std::string(key.str())] = *string;
    }
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt: {}", origin, error.description());
  }
  return config;
}

Expected<void> save_review_config(const Layout& layout, const std::string& pipeline_id,
                                  const ConfigVars& config) {
  fs::path file = layout.review_config_file(pipeline_id);
  if (config.empty()) {
    std::error_code ec;
    fs::remove(file, ec);
    return {};
  }
  toml::table table;
  for (const auto& [name, value] : config) {
    table.insert(name, value);
  }
  std::ostringstream out;
  out << table << "\n";
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  return write_file_atomic(file, out.str(), 0600);
}

} // namespace slipway
