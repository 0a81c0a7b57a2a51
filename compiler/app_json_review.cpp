#include <algorithm>

#include "compiler/app_json.hpp"

namespace slipway {

AppJson review_app_manifest(AppJson manifest) {
  const EnvironmentSpec& review = manifest.review;
  for (const EnvVarSpec& var : review.env) {
    auto same = std::ranges::find(manifest.env, var.name, &EnvVarSpec::name);
    if (same != manifest.env.end()) {
      *same = var;
    } else {
      manifest.env.push_back(var);
    }
  }
  if (!review.buildpacks.empty()) {
    manifest.buildpacks = review.buildpacks;
  }
  manifest.formation = review.formation;
  if (!review.postdeploy.empty()) {
    manifest.scripts.postdeploy = review.postdeploy;
  }
  if (!review.predestroy.empty()) {
    manifest.scripts.pr_predestroy = review.predestroy;
  }
  return manifest;
}

} // namespace slipway
