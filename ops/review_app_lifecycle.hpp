// Review apps' lifecycle, shared by ops/review_apps.cpp (the operations users ask for) and
// review_app_lifecycle.cpp (what pushes and the sweep do): a branch's review app found, made,
// deployed and destroyed. Not for front ends: they call ops/review_apps.hpp, which checks the
// rights first; these act for whoever that check let through.
#pragma once

#include <optional>
#include <string>

#include "common/error.hpp"
#include "common/file_lock.hpp"
#include "common/time.hpp"
#include "ops/context.hpp"
#include "ops/review_apps.hpp"
#include "runtime/pipelines.hpp"
#include "runtime/review_apps.hpp"

namespace slipway::ops {

// What a review app is of: a branch of its parent's repository, or a pull request of the host
// the parent is connected to (ops/connections.hpp), whose head is fetched to
// refs/pull/N/head of the parent's repository.
struct ReviewHead {
  std::string branch;   // the branch; a pull request's head branch
  int pull_request = 0; // 0: a branch's review app
  // The parent's ref that holds the commit: refs/heads/BRANCH, refs/pull/N/head.
  std::string ref() const;
  // "branch feature-x", "pull request #12 (feature-x)"
  std::string describe() const;
};

// Now, to the second (as app.toml keeps times).
TimePoint now_seconds();

// An event of resource review-app.
void record_review(const Context& context, const std::string& app, const std::string& action,
                   nlohmann::json data);

// Runs its pr-predestroy (from the live release's app.json; a failure is said and the
// destruction goes on), then destroys everything of review app `app` but its events.
void remove_review_app(const Context& context, const std::string& app, const std::string& reason);

// The review app of `head` of `parent` in the pipeline, if there is one.
std::optional<ReviewApp> review_app_of(const Layout& layout, const Pipeline& pipeline,
                                       const std::string& parent, const ReviewHead& head);
// The review app of `branch` of `parent`'s repository in the pipeline, if there is one.
std::optional<ReviewApp> review_app_of_branch(const Layout& layout, const Pipeline& pipeline,
                                              const std::string& parent, const std::string& branch);

// A review app as `reviewapps` and the API show it.
ReviewAppStatus status_of(const Context& context, const std::string& pipeline_id,
                          const ReviewApp& review);

// Held while a pipeline's review app is found or made, so that two pushes of one branch make
// one app, and --max counts right.
Expected<FileLock> lock_review_apps(const Layout& layout, const Pipeline& pipeline);

// Makes the review app of `head` ("creating"): named PIPELINE-BRANCH (PIPELINE-pr-N for a
// pull request), coupled to the review stage, its collaborators the parent's; refused past
// --max. Callers hold lock_review_apps.
Expected<std::string> make_review_app(const Context& context, const Pipeline& pipeline,
                                      const std::string& parent, const ReviewHead& head,
                                      const std::string& commit);

// Deploys `commit` of `head` to its review app, making the app first when `create`; the
// tests first when the review stage waits for CI. A first deploy that fails leaves nothing;
// a later one that fails is recorded, and the live release stays.
Expected<ReviewAppStatus> deploy_review_app(const Context& context, const Pipeline& pipeline,
                                            const std::string& parent, const ReviewHead& head,
                                            const std::string& commit, bool create);

// The pipeline whose review apps come from `app`'s branches, if any.
std::optional<Pipeline> parent_pipeline(const Layout& layout, const std::string& app);

// Whether a push of `branch` (not a deploy branch) deploys its review app: with review apps
// enabled, always when autodeploy is on, else when the branch has one already.
bool deploys_review_app(const Layout& layout, const Pipeline& pipeline, const std::string& parent,
                        const std::string& branch);

} // namespace slipway::ops
