// Review apps' lifecycle (review_app_lifecycle.hpp): made, deployed, destroyed, and what a
// push, a merge, a deleted branch or idleness does to them.
#include "ops/review_app_lifecycle.hpp"

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

namespace fs = std::filesystem;

TimePoint now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string ReviewHead::ref() const {
  return pull_request > 0 ? fmt::format("refs/pull/{}/head", pull_request) : "refs/heads/" + branch;
}

std::string ReviewHead::describe() const {
  return pull_request > 0 ? fmt::format("pull request #{} ({})", pull_request, branch)
                          : "branch " + branch;
}

void record_review(const Context& context, const std::string& app, const std::string& action,
                   nlohmann::json data) {
  record(context,
         {.app = app, .resource = "review-app", .action = action, .data = std::move(data)});
}

namespace {

// The manifest a review app of `commit` sees, if the commit has a readable app.json.
std::optional<AppJson> review_manifest_at(const Layout& layout, const std::string& parent,
                                          const std::string& commit) {
  if (commit.empty()) {
    return std::nullopt;
  }
  auto text = git::file_at(layout.repo_dir(parent), commit, "app.json");
  if (!text || !*text) {
    return std::nullopt;
  }
  auto manifest = parse_app_json(**text);
  return manifest ? std::optional(review_app_manifest(std::move(*manifest))) : std::nullopt;
}

} // namespace

// Removes review app `app`: its pr-predestroy script first (when it has a live release to
// run it in; its failure is said, and the destruction goes on), then everything of the app
// but its events.
void remove_review_app(const Context& context, const std::string& app, const std::string& reason) {
  auto info = app_info(context.layout, app);
  if (info && info->review) {
    // The script of the code that runs: the live release's commit, not a later one that
    // failed to deploy.
    auto live = ReleaseStore(context.layout, app).live();
    auto manifest = live && *live && (*live)->has_slug()
                        ? review_manifest_at(context.layout, info->review->parent, (*live)->commit)
                        : std::nullopt;
    if (manifest && !manifest->scripts.pr_predestroy.empty()) {
      context.on_output(step_line(fmt::format("Running pr-predestroy of {}", app)));
      auto ran = run_live_script(context.release_context(app), "pr-predestroy",
                                 manifest->scripts.pr_predestroy);
      if (!ran) {
        context.on_output(failure_line(fmt::format("pr-predestroy failed: {}; destroying {} anyway",
                                                   ran.error().message, app)));
      }
    }
  }
  auto destroyed = [&]() -> Expected<void> {
    TRY(slipway::destroy_app(context.layout, context.config, app));
    TRY(remove_repo(context.layout, app));
    return {};
  }();
  if (!destroyed) {
    context.on_output(failure_line(
        fmt::format("could not destroy review app {}: {}", app, destroyed.error().message)));
    return;
  }
  record_review(context, app, "destroyed",
                {{"app", app},
                 {"branch", info && info->review ? info->review->branch : ""},
                 {"reason", reason},
                 {"message", fmt::format("Review app {} destroyed: {}", app, reason)}});
  context.on_output(step_line(fmt::format("Review app {} destroyed: {}", app, reason)));
  [[maybe_unused]] auto told = tell_daemon(context, app);
}

std::optional<ReviewApp> review_app_of(const Layout& layout, const Pipeline& pipeline,
                                       const std::string& parent, const ReviewHead& head) {
  for (auto& review : review_apps_of(layout, pipeline.id)) {
    bool same = head.pull_request > 0
                    ? review.origin.pull_request == head.pull_request
                    : review.origin.pull_request == 0 && review.origin.branch == head.branch;
    if (same && review.origin.parent == parent) {
      return review;
    }
  }
  return std::nullopt;
}

std::optional<ReviewApp> review_app_of_branch(const Layout& layout, const Pipeline& pipeline,
                                              const std::string& parent,
                                              const std::string& branch) {
  return review_app_of(layout, pipeline, parent, ReviewHead{.branch = branch});
}

ReviewAppStatus status_of(const Context& context, const std::string& pipeline_id,
                          const ReviewApp& review) {
  ReviewAppStatus status{.app = review.app,
                         .app_id = review.app_id,
                         .pipeline_id = pipeline_id,
                         .branch = review.origin.branch,
                         .pull_request = review.origin.pull_request,
                         .parent = review.origin.parent,
                         .url = app_url(context.config, review.app),
                         .status = review.origin.status,
                         .last_build = review.origin.last_build,
                         .message = review.origin.message,
                         .commit = review.origin.commit,
                         .pushed_at = review.origin.pushed_at,
                         .live = ReleaseStore(context.layout, review.app).live_version()};
  if (!review.origin.commit.empty()) {
    auto runs = list_test_runs(context.layout, review.app, "", 0);
    std::erase_if(runs, [&](const TestRun& run) { return run.commit != review.origin.commit; });
    if (!runs.empty()) {
      status.ci = std::ranges::max(runs, {}, &TestRun::number).status;
    }
  }
  return status;
}

// Makes the review app of `branch`: named, coupled to the review stage, its collaborators the
// parent's. Callers hold the pipeline's review lock.
Expected<std::string> make_review_app(const Context& context, const Pipeline& pipeline,
                                      const std::string& parent, const ReviewHead& head,
                                      const std::string& commit) {
  const std::string& branch = head.branch;
  const auto& settings = *pipeline.review_apps;
  if (settings.max > 0 &&
      static_cast<int>(review_apps_of(context.layout, pipeline.id).size()) >= settings.max) {
    return fail_as(ErrorKind::conflict,
                   "{} has {} review apps, its cap (reviewapps:enable --max {}): destroy one "
                   "with slipway reviewapps:destroy -p {} --branch BRANCH, or raise the cap",
                   pipeline.name, settings.max, settings.max, pipeline.name);
  }
  std::string label = head.pull_request > 0 ? fmt::format("pr-{}", head.pull_request) : branch;
  std::string app = TRY(review_app_name(pipeline.name, label, [&](const std::string& name) {
    std::error_code ec;
    return fs::exists(context.layout.app_dir(name), ec) ||
           fs::exists(context.layout.repo_dir(name), ec);
  }));
  // create_app refuses an app that exists: past it, the app is this review app's alone.
  TRY(slipway::create_app(context.layout, app));
  auto made = [&]() -> Expected<void> {
    TRY(create_repo(context.layout, app, self_executable()));
    auto info = TRY(app_info(context.layout, app));
    auto parent_info = TRY(app_info(context.layout, parent));
    info.access = parent_info.access;
    info.coupling = PipelineCoupling{.id = TRY(random_uuid()),
                                     .pipeline = pipeline.id,
                                     .stage = Stage::review,
                                     .created_at = now_seconds(),
                                     .updated_at = now_seconds()};
    info.review = ReviewOrigin{.branch = branch,
                               .parent = parent,
                               .commit = commit,
                               .pushed_at = now_seconds(),
                               .status = "creating",
                               .pull_request = head.pull_request};
    return save_app_info(context.layout, info);
  }();
  if (!made) {
    // Not a review app yet (no [review] to find it by): nothing of it may stay.
    [[maybe_unused]] auto removed = slipway::destroy_app(context.layout, context.config, app);
    [[maybe_unused]] auto unrepo = remove_repo(context.layout, app);
    return std::unexpected(made.error());
  }
  record_review(context, app, "created",
                {{"app", app},
                 {"branch", branch},
                 {"pull_request", head.pull_request},
                 {"parent", parent},
                 {"pipeline", pipeline.name},
                 {"message", fmt::format("Review app {} created for {}", app, head.describe())}});
  return app;
}

namespace {

// The config a review app starts with: the pipeline's review config, then who it is.
Expected<ConfigVars> starting_config(const Context& context, const Pipeline& pipeline,
                                     const std::string& app, const std::string& parent,
                                     const ReviewHead& head) {
  ConfigVars config = TRY(load_review_config(context.layout, pipeline.id));
  for (const auto& prefix : {"SLIPWAY", "HEROKU"}) {
    config[fmt::format("{}_APP_NAME", prefix)] = app;
    config[fmt::format("{}_PARENT_APP_NAME", prefix)] = parent;
    config[fmt::format("{}_BRANCH", prefix)] = head.branch;
    if (head.pull_request > 0) {
      config[fmt::format("{}_PR_NUMBER", prefix)] = std::to_string(head.pull_request);
    }
  }
  return config;
}

} // namespace

// Held while a pipeline's review app is found or made, so that two pushes of one branch make
// one app, and --max counts right.
Expected<FileLock> lock_review_apps(const Layout& layout, const Pipeline& pipeline) {
  return FileLock::acquire(layout.pipelines_dir() / fmt::format("review-{}.lock", pipeline.id),
                           FileLock::Mode::exclusive);
}

namespace {

void update_origin(const Context& context, const std::string& app,
                   const std::function<void(ReviewOrigin&)>& change) {
  auto info = app_info(context.layout, app);
  if (info && info->review) {
    change(*info->review);
    if (auto saved = save_app_info(context.layout, *info); !saved) {
      context.on_output(failure_line("warning: " + saved.error().message));
    }
  }
}

// The review app's own repository gets the commit it runs as its main branch, so that git
// and its live release agree (and `git clone` of it shows its code): fetched from the
// parent's repository, which has the branch.
Expected<void> keep_commit(const Context& context, const std::string& parent,
                           const std::string& app, const ReviewHead& head,
                           const std::string& commit) {
  const fs::path repo = context.layout.repo_dir(app);
  auto git = [&](std::vector<std::string> args) -> Expected<void> {
    args.insert(args.begin(), {"git", "-C", repo.string()});
    auto ran = run({.argv = args, .timeout = std::chrono::minutes(10)});
    if (!ran) {
      return std::unexpected(ran.error());
    }
    if (!ran->ok()) {
      return fail("cannot keep {} in {}'s repository: {}", commit.substr(0, 7), app,
                  ran->output.substr(0, 300));
    }
    return {};
  };
  TRY(git({"fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
           context.layout.repo_dir(parent).string(), "+" + head.ref() + ":refs/slipway/incoming"}));
  TRY(git({"update-ref", "refs/heads/main", commit}));
  TRY(git({"update-ref", "-d", "refs/slipway/incoming"}));
  return {};
}

} // namespace

// Deploys `commit` of `branch` to its review app, making the app first when `create`; the
// tests first when the review stage waits for CI. A first deploy that fails leaves nothing.
Expected<ReviewAppStatus> deploy_review_app(const Context& context, const Pipeline& pipeline,
                                            const std::string& parent, const ReviewHead& head,
                                            const std::string& commit, bool create) {
  const std::string& branch = head.branch;
  if (!is_branch_name(branch)) {
    return usage_error("branch '{}' cannot have a review app: its name is not one slipway keeps",
                       printable(branch.substr(0, 64)));
  }
  std::string app;
  {
    auto lock = TRY(lock_review_apps(context.layout, pipeline));
    if (auto existing = review_app_of(context.layout, pipeline, parent, head)) {
      app = existing->app;
      update_origin(context, app, [&](ReviewOrigin& origin) {
        origin.commit = commit;
        origin.pushed_at = now_seconds();
      });
    } else if (!create) {
      return fail_as(ErrorKind::not_found, "{} has no review app", head.describe());
    } else {
      app = TRY(make_review_app(context, pipeline, parent, head, commit));
    }
  }
  bool first = TRY(app_info(context.layout, app)).review->status == "creating";
  // What its events say, whole: a reader (the git host's statuses) may see them after the
  // app is gone.
  auto about = [&](std::string message) {
    return nlohmann::json{{"app", app},
                          {"branch", branch},
                          {"pull_request", head.pull_request},
                          {"parent", parent},
                          {"commit", commit},
                          {"url", app_url(context.config, app)},
                          {"message", std::move(message)}};
  };
  record_review(context, app, "deploying",
                about(fmt::format("Review app {} deploying {} of {}", app, commit.substr(0, 7),
                                  head.describe())));
  auto give_up = [&](const std::string& why) -> Expected<ReviewAppStatus> {
    auto data =
        about(fmt::format("Review app {} not {}: {}", app, first ? "created" : "updated", why));
    data["reason"] = why;
    record_review(context, app, "failed", std::move(data));
    if (first) {
      remove_review_app(context, app, "its first deploy failed");
    } else {
      update_origin(context, app, [&](ReviewOrigin& origin) {
        origin.last_build = "failed";
        origin.message = why.substr(0, 500);
      });
    }
    return fail("review app {} of {}: {}", app, head.describe(), why);
  };
  auto repo = git::open(context.layout.repo_dir(parent));
  if (!repo) {
    return give_up(repo.error().message);
  }
  auto export_source = [&](const fs::path& dir) -> Expected<void> {
    TRY(git::export_commit(repo->get(), commit, dir));
    return {};
  };
  auto stages = pipeline.wait_for_ci;
  if (std::ranges::find(stages, Stage::review) != stages.end()) {
    auto run = [&]() -> Expected<TestRun> {
      auto created = TRY(create_test_run(
          context, {.app = app, .gates = true, .commit = commit, .branch = branch}));
      context.on_output(step_line(fmt::format("wait_for_ci: running the tests of {} first (test "
                                              "run #{})",
                                              commit.substr(0, 7), created.number)));
      return execute_test_run(context.layout, context.config, created.number, context.on_output,
                              export_source);
    }();
    if (!run) {
      return give_up(run.error().message);
    }
    if (run->status != "succeeded") {
      return give_up(fmt::format("tests {}: run #{}, {}", run->status, run->number, run->message));
    }
  }
  auto initial = starting_config(context, pipeline, app, parent, head);
  if (!initial) {
    return give_up(initial.error().message);
  }
  auto deployed =
      deploy(context.release_context(app),
             {.fill_source = export_source,
              .commit = commit,
              .description = head.pull_request > 0
                                 ? fmt::format("Deploy pull request #{} {}", head.pull_request,
                                               commit.substr(0, 7))
                                 : fmt::format("Deploy {} {}", branch, commit.substr(0, 7)),
              .review_app = true,
              .initial_config = std::move(*initial)});
  if (!deployed) {
    std::string why = deployed.error().message;
    if (why.find("app.json requires config var") != std::string::npos) {
      why += fmt::format(" (for every review app: slipway config:set -p {} --stage review "
                         "NAME=...)",
                         pipeline.name);
    }
    return give_up(why);
  }
  if (auto kept = keep_commit(context, parent, app, head, commit); !kept) {
    context.on_output(failure_line("warning: " + kept.error().message));
  }
  update_origin(context, app, [&](ReviewOrigin& origin) {
    origin.status = "created";
    origin.last_build = "succeeded";
    origin.message.clear();
  });
  auto data = about(
      fmt::format("Review app {} deployed v{} ({})", app, deployed->version, commit.substr(0, 7)));
  data["version"] = deployed->version;
  record_review(context, app, "deployed", std::move(data));
  TRY(tell_daemon(context, app));
  auto review = review_app_of(context.layout, pipeline, parent, head);
  if (!review) {
    return fail("review app {} is gone", app);
  }
  return status_of(context, pipeline.id, *review);
}

} // namespace slipway::ops
