// Review apps (runtime/review_apps.hpp): enabling them on a pipeline, its review config, and
// what a push of a branch does to its review app. Who may do what (rights.cpp): enabling,
// disabling and the review config are an admin's (they bind every branch, and the config
// holds the secrets every review app starts with); creating or destroying the review app of
// a branch needs access to the app whose repository has it, as pushing that branch does; a
// review app's collaborators are its parent's. A branch push is never refused because of its
// review app: what failed is said in the push output and recorded, and the branch moves.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "ops/context.hpp"
#include "runtime/pipelines.hpp"
#include "runtime/release.hpp"

namespace slipway::ops {

struct EnableReviewApps {
  std::string pipeline; // its name or id
  ReviewAppsSettings settings;
  bool wait_for_ci = false; // the review stage waits for CI (pipelines:set's wait_for_ci)
};
// Enables review apps on the pipeline, or changes their settings. The pipeline needs an app
// whose repository has the branches: a development app, else a staging one.
Expected<Pipeline> enable_review_apps(const Context& context, const EnableReviewApps& request);

// Disables them: no review app is made or updated by a push any more; the ones there are
// stay until their branch goes or `reviewapps:destroy`.
Expected<Pipeline> disable_review_apps(const Context& context, const std::string& pipeline);

// A line of `reviewapps`.
struct ReviewAppStatus {
  std::string app;
  std::string app_id;
  std::string pipeline_id;
  std::string branch;
  int pull_request = 0; // a pull request's review app: its number
  std::string parent;
  std::string url;
  std::string status;     // creating, created
  std::string last_build; // succeeded, failed, ""
  std::string message;
  std::string commit;
  TimePoint pushed_at{};
  std::optional<int> live;
  std::string ci; // the last test run of its commit on the review app: its status, or ""
};
Expected<std::vector<ReviewAppStatus>> list_review_apps(const Context& context,
                                                        const std::string& pipeline);

// The review app `app` (its name or id), if the actor may use it; not found when it is no
// review app.
Expected<ReviewAppStatus> review_app(const Context& context, const std::string& app);

struct BranchReviewApp {
  std::string pipeline; // its name or id
  std::string branch;
  int pull_request = 0; // destroy: the review app of this pull request instead of the branch's
  // Make the app (or find it) now, and deploy it in a process of its own, acting as the same
  // actor: the Platform API's, so that the deploy outlives the request (the heroku CLI polls
  // the review app). The result is the app as it is when the deploy starts.
  bool detach = false;
};
// Creates the branch's review app from the branch's head, or deploys that head again.
Expected<ReviewAppStatus> create_review_app(const Context& context, const BranchReviewApp& request);

// The head of `branch` in the pipeline's repository (its review parent's), if the actor may
// use that app; not found when there is no such branch.
Expected<std::string> review_branch_head(const Context& context, const BranchReviewApp& request);

// Runs its pr-predestroy script, then destroys it (reason: "destroyed by KEY").
Expected<void> destroy_review_app(const Context& context, const BranchReviewApp& request);

// What a push to `app` means for review apps, told for each branch it moved (after git moved
// it): a deploy branch's push destroys the review apps whose branch it merged (autodestroy);
// another branch's push creates or updates its review app (autodeploy); a deleted branch's
// review app is destroyed. Nothing happens unless `app` is the review parent of a pipeline
// with review apps enabled. Failures are said on context.on_output, never returned.
struct BranchPush {
  std::string branch;
  std::string commit; // its new head; empty: the branch was deleted
  bool deploy_branch = false;
};
void review_apps_after_push(const Context& context, const std::string& app,
                            const std::vector<BranchPush>& pushes);

// Whether a push of `branch` (not a deploy branch) to `app` runs its tests on the branch's
// review app (the review stage waits for CI, and the push deploys the review app): a run of
// the parent's own would test the same commit twice.
bool tests_on_review_app(const Layout& layout, const std::string& app, const std::string& branch);

// Destroys, in every pipeline, review apps whose branch had no push for --stale-days as of
// `now`, and review apps whose creation was cut short (still creating, their app not locked,
// an hour after the push). The daemon asks every few minutes; tests pass the time. Returns
// the apps destroyed.
Expected<std::vector<std::string>> destroy_stale_review_apps(const Context& context, TimePoint now);

// The pipeline's review config vars (`config -p PIPELINE --stage review`).
Expected<ConfigVars> review_config(const Context& context, const std::string& pipeline);

struct ChangeReviewConfig {
  std::string pipeline;
  ConfigVars set;
  std::vector<std::string> unset;
};
// Changes them for review apps made from now on (existing ones keep their config).
Expected<ConfigVars> change_review_config(const Context& context,
                                          const ChangeReviewConfig& request);

} // namespace slipway::ops
