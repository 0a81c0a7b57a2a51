// Promotion: pipelines.hpp's start_promotion, run_promotion and what reads their record.
#include <algorithm>

#include <fmt/ranges.h>

#include "common/output.hpp"
#include "common/paths.hpp"
#include "common/random.hpp"
#include "common/subprocess.hpp"
#include "ops/apps.hpp"
#include "ops/pipelines.hpp"
#include "ops/rights.hpp"
#include "ops/settings.hpp"
#include "runtime/apps.hpp"
#include "runtime/release_store.hpp"
#include "runtime/releaser.hpp"
#include "runtime/slug_store.hpp"
#include "runtime/test_runs.hpp"

namespace slipway::ops {

Expected<void> check_promotable(const Context& context, const std::string& app,
                                const Release& release) {
  auto info = TRY(app_info(context.layout, app));
  auto runs = list_test_runs(context.layout, app, "", 0);
  if (!info.ci && !waits_for_ci(context.layout, app) && runs.empty()) {
    return {}; // the app runs no tests
  }
  std::string which = fmt::format(
      "v{}{}", release.version,
      release.commit.empty() ? std::string() : fmt::format(" ({})", release.commit.substr(0, 7)));
  std::erase_if(runs, [&](const TestRun& run) { return run.commit != release.commit; });
  if (std::ranges::any_of(runs, [](const TestRun& run) { return run.status == "succeeded"; })) {
    return {};
  }
  auto running = std::ranges::find_if(
      runs, [](const TestRun& run) { return !is_finished_status(run.status); });
  if (running != runs.end()) {
    return fail_as(ErrorKind::conflict,
                   "{}'s test run #{} is still {}; wait for it (slipway ci:info {}) or promote "
                   "with --force",
                   which, running->number, running->status, running->number);
  }
  return fail_as(ErrorKind::conflict, "{} has no passing test run{}; `ci:rerun` or `--force`",
                 which,
                 runs.empty() ? std::string()
                              : fmt::format(" (#{} {})", runs.front().number, runs.front().status));
}

namespace {

// The source's release to promote: `version`, else the live one; succeeded, built, stored.
Expected<Release> promotable_release(const Context& context, const std::string& app,
                                     std::optional<int> version) {
  ReleaseStore store(context.layout, app);
  Release release;
  if (version) {
    release = TRY(store.get(*version));
  } else {
    auto live = TRY(store.live());
    if (!live) {
      return fail("'{}' has no live release to promote", app);
    }
    release = std::move(*live);
  }
  if (release.status != ReleaseStatus::succeeded) {
    return fail("{} v{} {}; only a succeeded release can be promoted", app, release.version,
                release.status == ReleaseStatus::failed ? "failed" : "is still pending");
  }
  if (!release.has_slug()) {
    return fail("{} v{} has no slug: nothing was built yet", app, release.version);
  }
  if (!SlugStore(context.layout).has(release)) {
    return fail("{} v{} has expired: its slug was pruned, so it cannot be promoted", app,
                release.version);
  }
  return release;
}

TimePoint now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

} // namespace

Expected<Promotion> start_promotion(const Context& context, const Promote& request) {
  TRY(authorize(context, "pipelines:promote", request.app));
  auto source = TRY(pipeline_member(context.layout, request.app));
  if (!source) {
    return fail_as(ErrorKind::not_found,
                   "app '{}' is not in a pipeline: add it with slipway "
                   "pipelines:add PIPELINE -a {} --stage STAGE",
                   request.app, request.app);
  }
  auto pipeline = TRY(slipway::find_pipeline(context.layout, source->coupling.pipeline));
  std::vector<PipelineMember> targets;
  if (request.to.empty()) {
    auto stage = downstream_of(source->coupling.stage);
    if (!stage) {
      return usage_error("nothing is downstream of the {} stage of '{}'; name the apps to "
                         "promote to with --to APP,APP",
                         to_string(source->coupling.stage), request.app);
    }
    targets = stage_members(context.layout, *source, *stage);
    if (targets.empty()) {
      return fail("cannot promote from '{}': pipeline '{}' has no app in the {} stage", request.app,
                  pipeline.name, to_string(*stage));
    }
  } else {
    auto members = pipeline_members(context.layout, pipeline.id);
    for (const auto& name : request.to) {
      auto target = TRY(find_app(context, name));
      if (target.name == request.app) {
        return usage_error("cannot promote '{}' to itself", request.app);
      }
      auto member = std::ranges::find(members, target.name, &PipelineMember::app);
      if (member == members.end()) {
        return usage_error("app '{}' is not in pipeline '{}'; promotion stays within a "
                           "pipeline",
                           target.name, pipeline.name);
      }
      if (std::ranges::find(targets, target.name, &PipelineMember::app) == targets.end()) {
        targets.push_back(*member);
      }
    }
  }
  for (const auto& target : targets) {
    TRY(authorize(context, "pipelines:promote", target.app));
  }
  auto release = TRY(promotable_release(context, request.app, request.version));
  std::string forced;
  if (auto gate = check_promotable(context, request.app, release); !gate) {
    if (!request.force) {
      return std::unexpected(gate.error());
    }
    forced = gate.error().message;
  }
  Promotion promotion{.id = TRY(random_uuid()),
                      .pipeline_id = pipeline.id,
                      .source_app = request.app,
                      .source_app_id = source->app_id,
                      .source_version = release.version,
                      .commit = release.commit,
                      .slug = release.slug,
                      .actor = context.actor.name,
                      .created_at = now_seconds(),
                      .updated_at = now_seconds()};
  std::vector<std::string> names;
  for (const auto& target : targets) {
    promotion.targets.push_back(
        {.id = TRY(random_uuid()), .app = target.app, .app_id = target.app_id});
    names.push_back(target.app);
  }
  TRY(save_promotion(context.layout, promotion));
  record(context,
         {.app = request.app,
          .resource = "pipeline-promotion",
          .action = "created",
          .data = {{"id", promotion.id},
                   {"pipeline", pipeline.name},
                   {"version", release.version},
                   {"slug", release.slug},
                   {"targets", names},
                   {"forced", forced},
                   {"message", fmt::format("Promotion of v{} to {} started{}", release.version,
                                           fmt::join(names, ", "),
                                           forced.empty() ? "" : " with --force: " + forced)}}});
  return promotion;
}

Expected<Promotion> run_promotion(const Context& context, const std::string& id,
                                  const std::function<void(const PromotionTarget&)>& on_target) {
  auto claim = TRY(claim_promotion(context.layout, id));
  auto promotion = TRY(load_promotion(context.layout, id));
  TRY(authorize(context, "pipelines:promote", promotion.source_app));
  if (promotion.started || promotion.status() != "pending") {
    return fail_as(ErrorKind::conflict, "promotion {} has run already", id);
  }
  promotion.started = true;
  promotion.updated_at = now_seconds();
  TRY(save_promotion(context.layout, promotion));
  auto source = ReleaseStore(context.layout, promotion.source_app).get(promotion.source_version);
  int succeeded = 0;
  for (PromotionTarget& target : promotion.targets) {
    auto promoted = [&]() -> Expected<Release> {
      TRY(authorize(context, "pipelines:promote", target.app));
      if (!source) {
        return std::unexpected(source.error());
      }
      context.on_output(step_line(fmt::format("Promoting {} v{} to {}", promotion.source_app,
                                              promotion.source_version, target.app)));
      return promote(context.release_context(target.app), promotion.source_app, *source);
    }();
    nlohmann::json data = {{"id", promotion.id},
                           {"source", promotion.source_app},
                           {"source_version", promotion.source_version},
                           {"slug", promotion.slug}};
    if (promoted) {
      ++succeeded;
      target.status = "succeeded";
      target.version = promoted->version;
      data["version"] = promoted->version;
      data["message"] = fmt::format("Promoted {} v{} as v{}", promotion.source_app,
                                    promotion.source_version, promoted->version);
    } else {
      target.status = "failed";
      target.error_message = promoted.error().message;
      data["reason"] = target.error_message;
      data["message"] = fmt::format("Promotion of {} v{} failed: {}", promotion.source_app,
                                    promotion.source_version, target.error_message);
    }
    promotion.updated_at = now_seconds();
    TRY(save_promotion(context.layout, promotion));
    record(context, {.app = target.app,
                     .resource = "pipeline-promotion",
                     .action = target.status,
                     .data = std::move(data)});
    if (on_target) {
      on_target(target);
    }
  }
  int failed = static_cast<int>(promotion.targets.size()) - succeeded;
  record(context,
         {.app = promotion.source_app,
          .resource = "pipeline-promotion",
          .action = "completed",
          .data = {{"id", promotion.id},
                   {"version", promotion.source_version},
                   {"succeeded", succeeded},
                   {"failed", failed},
                   {"message", fmt::format("Promotion of v{} completed: {} succeeded, {} failed",
                                           promotion.source_version, succeeded, failed)}}});
  return promotion;
}

Expected<void> spawn_promotion(const Context& context, const std::string& id) {
  std::vector<std::string> argv = {
      self_executable().string(), "--root",          context.layout.root().string(),
      "pipelines:promote",        "--run-promotion", id};
  if (context.actor.local) {
    return spawn_detached(argv, {}, {"SLIPWAY_USER"});
  }
  return spawn_detached(argv, {{"SLIPWAY_USER", context.actor.name}});
}

Expected<Promotion> promotion(const Context& context, const std::string& id) {
  auto promotion = TRY(load_promotion(context.layout, id));
  if (!context.actor.admin && !may_access(context, promotion.source_app)) {
    return fail_as(ErrorKind::not_found, "promotion '{}' does not exist", id);
  }
  return promotion;
}

} // namespace slipway::ops
