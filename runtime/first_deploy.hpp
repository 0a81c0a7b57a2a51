// What app.json sets up on an app's first deploy, as Heroku does when an app is created
// from it: its config vars (`env`). Later deploys never change them: `config:set` owns them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "compiler/app_json.hpp"
#include "runtime/release.hpp"

namespace slipway {

struct FirstDeployConfig {
  ConfigVars config;
  std::vector<std::string> set;       // from `value`
  std::vector<std::string> generated; // `generator: "secret"`
};

// `current` with the vars app.json declares and it lacks: a `value`, or a new secret from
// `secret()`. A required var with neither fails, naming every such var of `app` at once.
Expected<FirstDeployConfig>
first_deploy_config(const std::string& app, const AppJson& manifest, ConfigVars current,
                    const std::function<Expected<std::string>()>& secret);

// 64 hex digits from the kernel's random source: what `generator: "secret"` gives.
Expected<std::string> generate_secret();

} // namespace slipway
