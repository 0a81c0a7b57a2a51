#include "ops/review_apps.hpp"

#include <algorithm>

#include <fmt/ranges.h>

#include "common/file_lock.hpp"
#include "common/output.hpp"
#include "common/paths.hpp"
#include "common/random.hpp"
#include "common/subprocess.hpp"
#include "compiler/app_json.hpp"
#include "compiler/git_export.hpp"
#include "compiler/git_history.hpp"
#include "compiler/release_yaml.hpp"
#include "ops/apps.hpp"
#include "ops/pipelines.hpp"
#include "ops/review_app_lifecycle.hpp"
#include "ops/rights.hpp"
#include "ops/settings.hpp"
#include "ops/test_runs.hpp"
#include "runtime/app_name.hpp"
#include "runtime/apps.hpp"
#include "runtime/release_store.hpp"
#include "runtime/releaser.hpp"
#include "runtime/repo.hpp"
#include "runtime/review_apps.hpp"
#include "runtime/test_runner.hpp"
#include "runtime/test_runs.hpp"

namespace slipway::ops {

namespace {

// The pipeline and the parent that review apps of `pipeline_name` come from, for `actor`.
struct ReviewSource {
  Pipeline pipeline;
  std::string parent;
};
Expected<ReviewSource> review_source(const Context& context, const std::string& name_or_id,
                                     std::string_view operation) {
  auto pipeline = TRY(ops::find_pipeline(context, name_or_id));
  auto parent = review_parent(context.layout, pipeline.id);
  if (!parent) {
    return usage_error("pipeline {} has no development or staging app whose repository's "
                       "branches would get review apps",
                       pipeline.name);
  }
  TRY(authorize(context, operation, parent->app));
  return ReviewSource{.pipeline = std::move(pipeline), .parent = parent->app};
}

} // namespace

Expected<Pipeline> enable_review_apps(const Context& context, const EnableReviewApps& request) {
  TRY(authorize(context, "reviewapps:enable"));
  const auto& settings = request.settings;
  if (settings.stale_days < 0 || settings.stale_days > k_max_stale_days) {
    return usage_error("--stale-days is from 1 to {} (0: never)", k_max_stale_days);
  }
  if (settings.max < 0 || settings.max > k_max_review_apps) {
    return usage_error("--max is from 1 to {} (0: no cap)", k_max_review_apps);
  }
  auto pipeline = TRY(slipway::find_pipeline(context.layout, request.pipeline));
  if (!review_parent(context.layout, pipeline.id)) {
    return usage_error("pipeline {} has no development or staging app: add the app whose "
                       "branches get review apps first (pipelines:add {} -a APP -s development)",
                       pipeline.name, pipeline.name);
  }
  auto changed = TRY(change_pipeline(context, request.pipeline, [&](Pipeline& pipeline) {
    pipeline.review_apps = settings;
    set_wait_for_ci(pipeline, Stage::review, request.wait_for_ci);
    return Expected<bool>(true);
  }));
  record(context, {.resource = "pipeline",
                   .action = "updated",
                   .data = {{"pipeline", changed.name},
                            {"pipeline_id", changed.id},
                            {"review_apps", true},
                            {"message", fmt::format("Review apps enabled on {}", changed.name)}}});
  return changed;
}

Expected<Pipeline> disable_review_apps(const Context& context, const std::string& pipeline) {
  TRY(authorize(context, "reviewapps:disable"));
  auto changed = TRY(change_pipeline(context, pipeline, [](Pipeline& pipeline) -> Expected<bool> {
    if (!pipeline.review_apps) {
      return usage_error("review apps are not enabled on {}", pipeline.name);
    }
    pipeline.review_apps.reset();
    set_wait_for_ci(pipeline, Stage::review, false);
    return true;
  }));
  record(context, {.resource = "pipeline",
                   .action = "updated",
                   .data = {{"pipeline", changed.name},
                            {"pipeline_id", changed.id},
                            {"review_apps", false},
                            {"message", fmt::format("Review apps disabled on {}", changed.name)}}});
  return changed;
}

Expected<std::vector<ReviewAppStatus>> list_review_apps(const Context& context,
                                                        const std::string& pipeline) {
  TRY(authorize(context, "reviewapps"));
  auto found = TRY(ops::find_pipeline(context, pipeline));
  std::vector<ReviewAppStatus> apps;
  for (const auto& review : review_apps_of(context.layout, found.id)) {
    if (may_access(context, review.app)) {
      apps.push_back(status_of(context, found.id, review));
    }
  }
  return apps;
}

Expected<ReviewAppStatus> review_app(const Context& context, const std::string& app) {
  auto found = TRY(find_app(context, app));
  TRY(authorize(context, "apps:info", found.name));
  auto info = TRY(app_info(context.layout, found.name));
  if (!info.review || !info.coupling) {
    return fail_as(ErrorKind::not_found, "{} is not a review app", found.name);
  }
  return status_of(context, info.coupling->pipeline,
                   ReviewApp{.app = found.name, .app_id = found.id, .origin = *info.review});
}

Expected<ReviewAppStatus> create_review_app(const Context& context,
                                            const BranchReviewApp& request) {
  auto source = TRY(review_source(context, request.pipeline, "reviewapps:create"));
  if (!source.pipeline.review_apps) {
    return usage_error("review apps are not enabled on {}: slipway reviewapps:enable -p {}",
                       source.pipeline.name, source.pipeline.name);
  }
  if (!is_branch_name(request.branch)) {
    return usage_error("'{}' is not a branch name", printable(request.branch));
  }
  auto head =
      TRY(git::read_ref(context.layout.repo_dir(source.parent), "refs/heads/" + request.branch));
  if (!head) {
    return fail_as(ErrorKind::not_found, "{} has no branch {}", source.parent, request.branch);
  }
  if (!request.detach) {
    return deploy_review_app(context, source.pipeline, source.parent,
                             ReviewHead{.branch = request.branch}, *head, true);
  }
  {
    auto lock = TRY(lock_review_apps(context.layout, source.pipeline));
    if (!review_app_of_branch(context.layout, source.pipeline, source.parent, request.branch)) {
      TRY(make_review_app(context, source.pipeline, source.parent,
                          ReviewHead{.branch = request.branch}, *head));
    }
  }
  std::vector<std::string> argv = {self_executable().string(),
                                   "--root",
                                   context.layout.root().string(),
                                   "reviewapps:create",
                                   "-p",
                                   source.pipeline.id,
                                   "--branch",
                                   request.branch};
  TRY(context.actor.local ? spawn_detached(argv, {}, {"SLIPWAY_USER"})
                          : spawn_detached(argv, {{"SLIPWAY_USER", context.actor.name}}));
  auto review =
      review_app_of_branch(context.layout, source.pipeline, source.parent, request.branch);
  if (!review) {
    return fail("the review app of branch {} is gone", request.branch);
  }
  return status_of(context, source.pipeline.id, *review);
}

Expected<std::string> review_branch_head(const Context& context, const BranchReviewApp& request) {
  auto source = TRY(review_source(context, request.pipeline, "apps:info"));
  if (!is_branch_name(request.branch)) {
    return usage_error("'{}' is not a branch name", printable(request.branch));
  }
  auto head =
      TRY(git::read_ref(context.layout.repo_dir(source.parent), "refs/heads/" + request.branch));
  if (!head) {
    return fail_as(ErrorKind::not_found, "{} has no branch {}", source.parent, request.branch);
  }
  return *head;
}

Expected<void> destroy_review_app(const Context& context, const BranchReviewApp& request) {
  auto source = TRY(review_source(context, request.pipeline, "reviewapps:destroy"));
  ReviewHead head{.branch = request.branch, .pull_request = request.pull_request};
  auto review = review_app_of(context.layout, source.pipeline, source.parent, head);
  if (!review) {
    return fail_as(ErrorKind::not_found, "{} of {} has no review app",
                   request.pull_request > 0 ? head.describe()
                                            : "branch " + printable(request.branch),
                   source.parent);
  }
  remove_review_app(context, review->app, fmt::format("destroyed by {}", context.actor.name));
  return {};
}

Expected<ConfigVars> review_config(const Context& context, const std::string& pipeline) {
  TRY(authorize(context, "reviewapps:config"));
  auto found = TRY(slipway::find_pipeline(context.layout, pipeline));
  return load_review_config(context.layout, found.id);
}

Expected<ConfigVars> change_review_config(const Context& context,
                                          const ChangeReviewConfig& request) {
  TRY(authorize(context, "reviewapps:config"));
  for (const auto& [name, value] : request.set) {
    if (!is_config_var_name(name)) {
      return usage_error("invalid config var name '{}' (use letters, digits and _, not "
                         "starting with a digit)",
                         printable(name));
    }
    if (!is_utf8(value)) {
      return usage_error("the value of config var '{}' is not UTF-8 text", name);
    }
  }
  for (const auto& name : request.unset) {
    if (!is_config_var_name(name)) {
      return usage_error("invalid config var name '{}'", printable(name));
    }
  }
  auto lock = TRY(FileLock::acquire(context.layout.pipelines_lock(), FileLock::Mode::exclusive));
  auto pipeline = TRY(slipway::find_pipeline(context.layout, request.pipeline));
  auto config = TRY(load_review_config(context.layout, pipeline.id));
  std::vector<std::string> names;
  for (const auto& [name, value] : request.set) {
    config[name] = value;
    names.push_back(name);
  }
  for (const auto& name : request.unset) {
    if (config.erase(name) > 0) {
      names.push_back(name);
    }
  }
  TRY(save_review_config(context.layout, pipeline.id, config));
  // Names only: the values are secrets.
  record(context, {.resource = "pipeline",
                   .action = "review_config_changed",
                   .data = {{"pipeline", pipeline.name},
                            {"pipeline_id", pipeline.id},
                            {"names", names},
                            {"message", fmt::format("Review config of {} changed: {}",
                                                    pipeline.name, fmt::join(names, ", "))}}});
  return config;
}

} // namespace slipway::ops
