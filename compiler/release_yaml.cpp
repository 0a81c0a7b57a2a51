#include "compiler/release_yaml.hpp"

#include <algorithm>

#include <yaml-cpp/yaml.h>

#include "common/output.hpp"

namespace slipway {

namespace {

std::string_view kind(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Sequence:
    return "a list";
  case YAML::NodeType::Map:
    return "a mapping";
  case YAML::NodeType::Scalar:
    return "a scalar";
  default:
    return "null";
  }
}

// `key` must be a mapping of names to scalar strings.
Expected<std::vector<std::pair<std::string, std::string>>> string_map(const YAML::Node& node,
                                                                      std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  if (node.IsNull()) {
    return out;
  }
  if (!node.IsMap()) {
    return fail("'{}' must be a mapping, got {}", key, kind(node));
  }
  for (const auto& entry : node) {
    if (!entry.first.IsScalar() || !entry.second.IsScalar()) {
      return fail("'{}': entry '{}' must map a name to a string, got {}", key,
                  entry.first.IsScalar() ? entry.first.Scalar() : "?", kind(entry.second));
    }
    out.emplace_back(entry.first.Scalar(), entry.second.Scalar());
  }
  return out;
}

} // namespace

Expected<ReleaseInfo> parse_release_yaml(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    return fail("malformed YAML at line {}: {}", error.mark.line + 1, error.msg);
  }
  ReleaseInfo info;
  if (root.IsNull()) {
    return info;
  }
  if (!root.IsMap()) {
    return fail("expected a YAML mapping, got {}", kind(root));
  }
  for (const auto& entry : root) {
    std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
    if (key == "default_process_types") {
      auto types = TRY(string_map(entry.second, key));
      for (auto& [name, command] : types) {
        if (!is_process_type_name(name)) {
          return fail("'default_process_types': invalid process type name '{}'", name);
        }
        if (auto checked = check_process_command(name, command); !checked) {
          return prefixed(checked.error(), "'default_process_types'");
        }
      }
      info.default_process_types = std::move(types);
    } else if (key == "config_vars") {
      auto vars = TRY(string_map(entry.second, key));
      for (const auto& [name, value] : vars) {
        if (!is_config_var_name(name)) {
          return fail("'config_vars': invalid variable name '{}'", name);
        }
      }
      info.config_vars = std::move(vars);
    } else if (key == "addons") {
      if (entry.second.IsNull()) {
        continue;
      }
      if (!entry.second.IsSequence()) {
        return fail("'addons' must be a list, got {}", kind(entry.second));
      }
      for (const auto& addon : entry.second) {
        if (!addon.IsScalar()) {
          return fail("'addons' entries must be strings, got {}", kind(addon));
        }
        info.addons.push_back(addon.Scalar());
      }
    } else {
      return fail("unknown key '{}' (expected default_process_types, config_vars, addons)", key);
    }
  }
  return info;
}

bool is_config_var_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string
config_vars_profile_script(const std::vector<std::pair<std::string, std::string>>& vars) {
  std::string script = "# Written by slipway from the buildpacks' bin/release config_vars:\n"
                       "# defaults that the app's own config vars override.\n";
  for (const auto& [name, value] : vars) {
    script += fmt::format("if [ -z \"${{{0}+set}}\" ]; then export {0}={1}; fi\n", name,
                          shell_quote(value));
  }
  return script;
}

} // namespace slipway
