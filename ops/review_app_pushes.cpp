// What pushes and idleness do to review apps (review_apps.hpp): which pipeline a repository's
// branches feed, whether a branch's push deploys its review app, each moved branch told after
// git moved it (a merge or a deleted branch destroys, a push deploys), and the stale sweep.
#include <algorithm>

#include "common/output.hpp"
#include "compiler/git_history.hpp"
#include "ops/review_app_lifecycle.hpp"
#include "ops/rights.hpp"
#include "runtime/pipelines.hpp"
#include "runtime/review_apps.hpp"

namespace slipway::ops {

// The pipeline whose review apps come from `app`'s branches, if any.
std::optional<Pipeline> parent_pipeline(const Layout& layout, const std::string& app) {
  auto member = pipeline_member(layout, app);
  if (!member || !*member) {
    return std::nullopt;
  }
  auto pipeline = slipway::find_pipeline(layout, (*member)->coupling.pipeline);
  auto parent = pipeline ? review_parent(layout, pipeline->id) : std::nullopt;
  if (!pipeline || !parent || parent->app != app) {
    return std::nullopt;
  }
  return *pipeline;
}

// Whether a push of `branch` (not a deploy branch) deploys its review app: with review apps
// enabled, always when autodeploy is on, else when the branch has one already.
bool deploys_review_app(const Layout& layout, const Pipeline& pipeline, const std::string& parent,
                        const std::string& branch) {
  return pipeline.review_apps &&
         (pipeline.review_apps->autodeploy ||
          review_app_of_branch(layout, pipeline, parent, branch).has_value());
}

bool tests_on_review_app(const Layout& layout, const std::string& app, const std::string& branch) {
  auto pipeline = parent_pipeline(layout, app);
  return pipeline &&
         std::ranges::find(pipeline->wait_for_ci, Stage::review) != pipeline->wait_for_ci.end() &&
         deploys_review_app(layout, *pipeline, app, branch);
}

void review_apps_after_push(const Context& context, const std::string& app,
                            const std::vector<BranchPush>& pushes) {
  auto pipeline = parent_pipeline(context.layout, app);
  if (!pipeline) {
    return;
  }
  for (const auto& push : pushes) {
    auto review = review_app_of_branch(context.layout, *pipeline, app, push.branch);
    if (push.commit.empty()) {
      if (review) {
        remove_review_app(context, review->app, fmt::format("branch {} deleted", push.branch));
      }
    } else if (push.deploy_branch) {
      if (!pipeline->review_apps || !pipeline->review_apps->autodestroy) {
        continue;
      }
      // Each review app whose deployed commit the deploy branch now contains was merged.
      for (const auto& other : review_apps_of(context.layout, pipeline->id)) {
        if (other.origin.parent != app || other.origin.commit.empty()) {
          continue;
        }
        auto missing =
            git::commits_between(context.layout.repo_dir(app), other.origin.commit, push.commit, 1);
        if (missing && missing->empty()) {
          remove_review_app(
              context, other.app,
              fmt::format("branch {} merged into {}", other.origin.branch, push.branch));
        }
      }
    } else if (deploys_review_app(context.layout, *pipeline, app, push.branch)) {
      context.on_output(step_line(fmt::format("Review app of branch {}", push.branch)));
      auto deployed = deploy_review_app(context, *pipeline, app, ReviewHead{.branch = push.branch},
                                        push.commit, pipeline->review_apps->autodeploy);
      if (deployed) {
        context.on_output(
            step_line(fmt::format("Review app {} is live at {}", deployed->app, deployed->url)));
      } else {
        context.on_output(failure_line(deployed.error().message));
        context.on_output(failure_line(
            fmt::format("the branch {} moved; its review app is not live", push.branch)));
      }
    }
  }
}

Expected<std::vector<std::string>> destroy_stale_review_apps(const Context& context,
                                                             TimePoint now) {
  TRY(authorize(context, "reviewapps:sweep"));
  std::vector<std::string> destroyed;
  for (const auto& pipeline : TRY(load_pipelines(context.layout))) {
    for (const auto& review : review_apps_of(context.layout, pipeline.id)) {
      std::string reason;
      int stale_days = pipeline.review_apps ? pipeline.review_apps->stale_days : 0;
      if (stale_days > 0 && now - review.origin.pushed_at >= std::chrono::days(stale_days)) {
        reason = fmt::format("no push to branch {} for {} days", review.origin.branch, stale_days);
      } else if (review.origin.status == "creating" &&
                 now - review.origin.pushed_at >= std::chrono::hours(1)) {
        auto free =
            FileLock::try_acquire(context.layout.lock_file(review.app), FileLock::Mode::exclusive);
        if (free && *free) {
          reason = "its creation was interrupted";
        }
      }
      if (!reason.empty()) {
        remove_review_app(context, review.app, reason);
        destroyed.push_back(review.app);
      }
    }
  }
  return destroyed;
}

} // namespace slipway::ops
