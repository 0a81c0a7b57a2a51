#include "runtime/apps.hpp"

#include <algorithm>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>

#include "common/atomic_file.hpp"
#include "common/time.hpp"
#include "runtime/app_name.hpp"
#include "runtime/deploy_lock.hpp"
#include "runtime/release.hpp"
#include "runtime/retention.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<void> create_app(const Layout& layout, const std::string& name) {
  if (auto valid = validate_app_name(name); !valid) {
    return valid;
  }
  std::error_code ec;
  fs::create_directories(layout.apps_dir(), ec);
  if (::mkdir(layout.app_dir(name).c_str(), 0755) != 0) {
    if (errno == EEXIST) {
      return fail("app '{}' already exists", name);
    }
    return fail("cannot create '{}': {}", layout.app_dir(name).string(), errno_text(errno));
  }
  fs::create_directories(layout.cache_dir(name), ec);
  fs::create_directories(layout.releases_dir(name), ec);
  if (ec) {
    return fail("cannot create '{}': {}", layout.app_dir(name).string(), ec.message());
  }
  // app.toml last: an app dir without it is a creation that did not finish.
  return write_file_atomic(
      layout.app_file(name),
      fmt::format("created_at = {}\n", format_time(std::chrono::system_clock::now())));
}

std::vector<std::string> list_apps(const Layout& layout) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(layout.apps_dir(), ec)) {
    std::string name = entry.path().filename().string();
    if (validate_app_name(name) && fs::exists(layout.app_file(name), ec)) {
      names.push_back(name);
    }
  }
  std::ranges::sort(names);
  return names;
}

Expected<void> require_app(const Layout& layout, const std::string& name) {
  if (auto valid = validate_app_name(name); !valid) {
    return valid;
  }
  std::error_code ec;
  if (!fs::exists(layout.app_file(name), ec)) {
    return fail("app '{}' does not exist", name);
  }
  return {};
}

Expected<AppInfo> app_info(const Layout& layout, const std::string& name) {
  if (auto exists = require_app(layout, name); !exists) {
    return std::unexpected(exists.error());
  }
  auto text = read_file(layout.app_file(name));
  if (!text) {
    return std::unexpected(text.error());
  }
  AppInfo info{.name = name};
  std::string origin = layout.app_file(name).string();
  try {
    auto table = toml::parse(*text, origin);
    for (const auto& [key, value] : table) {
      if (key.str() != "created_at" && key.str() != "deploy_branch") {
        return fail("{}: unknown key '{}'", origin, key.str());
      }
    }
    auto created = table["created_at"].value_exact<toml::date_time>();
    if (!created) {
      return fail("{}: 'created_at' must be a date-time", origin);
    }
    info.created_at = from_toml_time(*created);
    if (const toml::node* branch = table.get("deploy_branch")) {
      auto value = branch->value_exact<std::string>();
      if (!value || !is_branch_name(*value)) {
        return fail("{}: 'deploy_branch' must be a branch name such as \"main\"", origin);
      }
      info.deploy_branch = *value;
    }
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt: {}", layout.app_file(name).string(), error.description());
  }
  return info;
}

Expected<void> destroy_app(const Layout& layout, const Config& config, const std::string& name) {
  if (auto exists = require_app(layout, name); !exists) {
    return exists;
  }
  auto lock = lock_app(layout, name, true, {});
  if (!lock) {
    return std::unexpected(lock.error());
  }
  // Out of apps/ in one rename, then gone: a crash midway leaves no half app behind.
  fs::path doomed = layout.apps_dir() / fmt::format(".destroyed-{}-{}", name, getpid());
  if (auto moved = rename_durable(layout.app_dir(name), doomed); !moved) {
    return moved;
  }
  std::error_code ec;
  fs::remove_all(doomed, ec);
  auto pruned = prune_slugs(layout, config);
  if (!pruned) {
    return std::unexpected(pruned.error());
  }
  return {};
}

} // namespace slipway
