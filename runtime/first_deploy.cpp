#include "runtime/first_deploy.hpp"

#include <fmt/ranges.h>

#include "common/output.hpp"
#include "common/random.hpp"

namespace slipway {

Expected<FirstDeployConfig>
first_deploy_config(const std::string& app, const AppJson& manifest, ConfigVars current,
                    const std::function<Expected<std::string>()>& secret) {
  FirstDeployConfig result{.config = std::move(current)};
  std::vector<std::string> missing;
  for (const EnvVarSpec& var : manifest.env) {
    if (result.config.contains(var.name)) {
      continue;
    }
    if (var.value) {
      result.config[var.name] = *var.value;
      result.set.push_back(var.name);
    } else if (var.secret) {
      result.config[var.name] = TRY(secret());
      result.generated.push_back(var.name);
    } else if (var.required) {
      missing.push_back(var.name);
    }
  }
  if (!missing.empty()) {
    return fail("app.json requires config var{} {}, with no value given; set {} first: "
                "slipway config:set -a {} {}=...",
                missing.size() == 1 ? "" : "s", fmt::join(missing, ", "),
                missing.size() == 1 ? "it" : "them", app, fmt::join(missing, "=... "));
  }
  return result;
}

Expected<std::string> generate_secret() {
  return random_hex(32);
}

} // namespace slipway
