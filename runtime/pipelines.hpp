// Pipelines: apps grouped by stage (stage.hpp) so that a release moves downstream by
// promotion — the same slug, run with the target's config. ROOT/pipelines/pipelines.toml
// lists the pipelines; an app's coupling (its pipeline and stage) is in its own app.toml,
// so an app is in at most one pipeline by construction, and renaming or destroying an app
// needs nothing here. A coupling that names a pipeline which no longer exists (a destroy
// interrupted before it reached the app) counts as none.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "runtime/layout.hpp"
#include "runtime/stage.hpp"

namespace slipway {

// `reviewapps:enable`'s settings (review_apps.hpp).
struct ReviewAppsSettings {
  bool autodeploy = false;  // a push of a branch creates or updates its review app
  bool autodestroy = false; // a branch merged into the deploy branch destroys its review app
  int stale_days = 0;       // a review app whose branch had no push for this long goes; 0: never
  int max = 0;              // at most this many review apps at once; 0: no cap
  bool operator==(const ReviewAppsSettings&) const = default;
};
inline constexpr int k_max_stale_days = 365;
inline constexpr int k_max_review_apps = 1000;

struct Pipeline {
  std::string id; // a UUID, kept from its creation (a rename keeps it)
  std::string name;
  TimePoint created_at{};
  TimePoint updated_at{};
  // The stages whose apps wait for CI (`pipelines:set -p P --stage S wait_for_ci=true`), as an
  // app's own `wait_for_ci` does: in stage order, each once.
  std::vector<Stage> wait_for_ci;
  // Review apps, when enabled (`reviewapps:enable`).
  std::optional<ReviewAppsSettings> review_apps;
};

// Every pipeline, sorted by name. A missing file is none; a damaged one is an error naming it.
Expected<std::vector<Pipeline>> load_pipelines(const Layout& layout);

// Replaces the list (atomically). Callers hold layout.pipelines_lock().
Expected<void> save_pipelines(const Layout& layout, const std::vector<Pipeline>& pipelines);

// The pipeline named `name_or_id` (its name, or its id), else a not-found error.
Expected<Pipeline> find_pipeline(const Layout& layout, std::string_view name_or_id);

// An app in a pipeline.
struct PipelineMember {
  std::string app;
  std::string app_id;
  PipelineCoupling coupling;
  bool promotion_only = false;
};

// The apps coupled to the pipeline `pipeline_id`, by stage (review first) then name.
std::vector<PipelineMember> pipeline_members(const Layout& layout, const std::string& pipeline_id);

// The app's place in a pipeline that exists, if it has one.
Expected<std::optional<PipelineMember>> pipeline_member(const Layout& layout,
                                                        const std::string& app);

// The members of `stage` in the app's pipeline.
std::vector<PipelineMember> stage_members(const Layout& layout, const PipelineMember& member,
                                          Stage stage);

// Turns the stage's wait_for_ci on or off, keeping the list in stage order; whether it changed.
bool set_wait_for_ci(Pipeline& pipeline, Stage stage, bool on);

// The one rule of wait_for_ci: a push of the app's deploy branch runs its tests first when
// the app says so (`apps:set wait_for_ci=true`) or its pipeline says so for its stage.
bool waits_for_ci(const Layout& layout, const std::string& app);

// The one rule of `promotion_only`: nullopt when a direct deploy (a push, `deploy`) may
// change the app, else why not — "production changes only by promotion: slipway
// pipelines:promote -a STAGING_APP". Rollback and config changes never ask.
std::optional<std::string> direct_deploy_refusal(const Layout& layout, const std::string& app);

} // namespace slipway
