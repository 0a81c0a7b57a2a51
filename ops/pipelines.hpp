// Pipelines (runtime/pipelines.hpp): making and changing them, coupling apps to their
// stages, promoting a release downstream, and what a downstream app lacks of its upstream.
// Who may do what (rights.cpp): creating, renaming and destroying a pipeline needs an admin
// key; adding, moving or removing an app needs access to that app; promoting needs access to
// the source and to every target; a collaborator sees the pipelines of its apps, and in them
// only its apps.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "ops/context.hpp"
#include "runtime/pipelines.hpp"
#include "runtime/promotions.hpp"

namespace slipway::ops {

// The pipelines the actor may see, by name.
Expected<std::vector<Pipeline>> list_pipelines(const Context& context);

struct CreatePipeline {
  std::string name;
  std::string app;            // optional: couple it at once
  std::optional<Stage> stage; // required with an app
};
Expected<Pipeline> create_pipeline(const Context& context, const CreatePipeline& request);

struct RenamePipeline {
  std::string pipeline; // its name or id
  std::string to;
};
Expected<Pipeline> rename_pipeline(const Context& context, const RenamePipeline& request);

// Changes the pipeline `name_or_id` under the pipelines' lock: `change` edits it and says
// whether it changed anything; only then is it saved, with a new updated_at. The caller has
// authorized the change.
Expected<Pipeline> change_pipeline(const Context& context, const std::string& name_or_id,
                                   const std::function<Expected<bool>(Pipeline&)>& change);

struct SetStage {
  std::string pipeline; // its name or id
  Stage stage = Stage::staging;
  std::vector<std::pair<std::string, std::string>> settings; // NAME=VALUE, in order
};
// `pipelines:set`: a stage's settings, each checked before any is applied (an admin's, since
// they bind every app of the stage). The one setting so far:
//   wait_for_ci = true|false   a push of a deploy branch of any app of the stage runs its tests
//                              first, and a red run refuses it (as the app's own wait_for_ci)
Expected<Pipeline> set_stage(const Context& context, const SetStage& request);

// Removes the pipeline and uncouples its apps (which keep running as they are).
Expected<Pipeline> destroy_pipeline(const Context& context, const std::string& pipeline);

// The pipeline named `name_or_id`, if the actor may see it.
Expected<Pipeline> find_pipeline(const Context& context, std::string_view name_or_id);

struct CoupleApp {
  std::string pipeline; // its name or id
  std::string app;
  Stage stage = Stage::development;
};
// Adds the app to the pipeline at `stage`: an app in another pipeline is refused.
Expected<PipelineMember> add_to_pipeline(const Context& context, const CoupleApp& request);

struct MoveApp {
  std::string app;
  Stage stage = Stage::development;
};
// Moves the app to another stage of its pipeline (leaving production ends promotion_only).
Expected<PipelineMember> update_coupling(const Context& context, const MoveApp& request);

// Takes the app out of its pipeline (and ends its promotion_only).
Expected<PipelineMember> remove_from_pipeline(const Context& context, const std::string& app);

// The app's place in a pipeline, if any (an error when the actor may not use the app).
Expected<std::optional<PipelineMember>> app_coupling(const Context& context,
                                                     const std::string& app);

// A line of `pipelines:info` and the board: an app, its live release and how far it is
// behind its upstream stage.
struct MemberStatus {
  PipelineMember member;
  std::optional<int> live;
  std::string commit;  // the live release's
  std::string summary; // "3 commits behind web-staging v12", "up to date with web-staging"...
};
struct PipelineInfo {
  Pipeline pipeline;
  std::vector<MemberStatus> apps; // the ones the actor may use, by stage then name
};
Expected<PipelineInfo> pipeline_info(const Context& context, const std::string& pipeline);

// The couplings the actor may see, of one pipeline or (empty) of every pipeline.
Expected<std::vector<PipelineMember>> list_couplings(const Context& context,
                                                     const std::string& pipeline);

// A commit of `pipelines:diff`.
struct DiffCommit {
  std::string id;
  std::string author;
  std::string email;
  TimePoint time{};
  std::string subject;
};
// What the app lacks of one app of its upstream stage: the commits that app's live release
// has and the app's live release does not, newest first; or why they cannot be compared.
struct StageDiff {
  std::string upstream_app;
  std::optional<int> upstream_version;
  std::optional<int> version;
  std::vector<DiffCommit> commits;
  std::string problem; // not empty: they could not be compared, and why
};
// How many commits a pipelines:info line (and the board) counts before it says "at least".
inline constexpr std::size_t k_counted_commits = 100;

// `limit`: the most commits each diff lists (0: all).
Expected<std::vector<StageDiff>> pipeline_diff(const Context& context, const std::string& app,
                                               std::size_t limit = 0);

struct Promote {
  std::string app;             // the source
  std::vector<std::string> to; // target apps (names or ids); empty: the next stage's apps
  std::optional<int> version;  // the source's release; default: its live one
  bool force = false;          // past a missing or red test run (recorded)
};
// Checks the request — rights on the source and every target, the targets in the source's
// pipeline, the release promotable (the CI gate) — and records the promotion, pending.
Expected<Promotion> start_promotion(const Context& context, const Promote& request);

// Promotes each pending target of promotion `id` in turn, updating its record as each ends
// and telling `on_target`; a failing target does not stop the others. The actor must be
// allowed what start_promotion checked, still.
Expected<Promotion> run_promotion(const Context& context, const std::string& id,
                                  const std::function<void(const PromotionTarget&)>& on_target);

// Runs promotion `id` in a process of its own, detached, acting as the same actor: what the
// Platform API does, so that the promotion outlives the request (the heroku CLI polls it).
Expected<void> spawn_promotion(const Context& context, const std::string& id);

// The record of promotion `id`, if the actor may use its source app.
Expected<Promotion> promotion(const Context& context, const std::string& id);

// CI's gate: a release of an app that runs tests (`ci`, `wait_for_ci`, or any test run on
// record) may be promoted only when a run of its commit on that app succeeded.
Expected<void> check_promotable(const Context& context, const std::string& app,
                                const Release& release);

} // namespace slipway::ops
