// Apps: a directory under apps/ with an app.toml, a build cache and its releases.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "runtime/layout.hpp"

namespace slipway {

struct AppInfo {
  std::string name;
  std::chrono::system_clock::time_point created_at;
  std::string deploy_branch; // app.toml's override of [server].deploy_branch; empty: none
};

Expected<void> create_app(const Layout& layout, const std::string& name);

// Names of every app, sorted.
std::vector<std::string> list_apps(const Layout& layout);

// Validates the name and checks that the app exists: the gate before any per-app path.
Expected<void> require_app(const Layout& layout, const std::string& name);

Expected<AppInfo> app_info(const Layout& layout, const std::string& name);

// Removes the app (after its deploy lock, so not in the middle of a release) and prunes
// the slugs only it used.
Expected<void> destroy_app(const Layout& layout, const Config& config, const std::string& name);

} // namespace slipway
