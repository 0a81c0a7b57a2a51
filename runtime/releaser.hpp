// The one way a release is made: deploy (build a source), config changes and rollback all
// take the app's deploy lock, settle what a crash left, record release vN as `pending`, run
// the release phase, activate, and only then mark vN `succeeded`. A failure at any step
// marks vN `failed` with the reason and leaves the live release as it was.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/error.hpp"
#include "compiler/compile.hpp"
#include "runtime/layout.hpp"
#include "runtime/operation.hpp"
#include "runtime/release.hpp"

namespace slipway {

struct DeployRequest {
  // Fills the (new, empty) build dir with the app's source; runs under the deploy lock.
  std::function<Expected<void>(const std::filesystem::path& build_dir)> fill_source;
  std::string commit;                  // SOURCE_VERSION
  std::string description;             // empty: "Deploy <short commit>"
  std::vector<std::string> buildpacks; // empty: the app's own, else detection
  // Told what the build made, before the slug is packed.
  std::function<void(const BuildResult&)> on_built;
  // A push: the release stays `pending` once live until git moves the branch
  // (operation.hpp), and is rolled back if it never does.
  std::optional<PushRef> push;
  // Whether the source may name buildpacks on this server's disk (compile.hpp).
  bool trusted_source = false;
  // When the build's time limit started (a push's export counts); empty: now.
  std::optional<Deadline> deadline;
  // Set when the source is exactly `commit`'s tree (a push): a succeeded release of this
  // app, or of an app of its pipeline that this says yes to (ops::may_reuse_build: a build
  // can bake its app's config into the slug), built from the same commit with the same
  // buildpacks on the same stack lends its slug instead of a rebuild (a promoted commit
  // pushed later).
  std::function<bool(const std::string& app)> may_reuse_slug_of;
  // A review app's deploy (review_apps.hpp): app.json is read as review_app_manifest sees it,
  // and environments.review.buildpacks, when named, build it.
  bool review_app = false;
  // On the first deploy, config vars the app starts with (under those already set and
  // before app.json's): a review app's review config and SLIPWAY_APP_NAME and the like.
  ConfigVars initial_config;
};

// The one rule of promotion_only (pipelines.hpp), applied: a direct deploy of an app that
// changes only by promotion is refused, and the refusal recorded as an event.
Expected<void> check_direct_deploy(const ReleaseContext& context);

Expected<Release> deploy(const ReleaseContext& context, const DeployRequest& request);

// Runs `command` as app.json's script `name` (a review app's pr-predestroy) in a one-off copy
// of the live release, under the app's lock and the release phase's time limit, its output
// in the release's script log; recorded as script_succeeded or script_failed. An error when
// the app has no live release with a slug, or the script fails.
Expected<void> run_live_script(const ReleaseContext& context, const std::string& name,
                               const std::string& command);

// A new release with the live slug and the live config changed. Names are validated;
// unsetting a name that is not set is a note, and when nothing changes no release is made
// (nullopt).
Expected<std::optional<Release>> change_config(const ReleaseContext& context, const ConfigVars& set,
                                               const std::vector<std::string>& unset);

// A new release "Rollback to vN" with vN's slug and config: no build. Default target: the
// newest succeeded release before the live one.
Expected<Release> rollback(const ReleaseContext& context, std::optional<int> target);

// A new release "Promote SRC vN (COMMIT)" of the target (`context.app`): `source`'s slug
// (shared through the slug store, never copied) and process types, with the target's own
// config, release phase and health-checked activation. No build. `source` must have
// succeeded and its slug must still be stored.
Expected<Release> promote(const ReleaseContext& context, const std::string& source_app,
                          const Release& source);

// "succeeded", "failed", "pending", or "expired" for a succeeded release whose slug was pruned.
std::string display_status(const Layout& layout, const Release& release);

} // namespace slipway
