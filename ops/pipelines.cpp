#include "ops/pipelines.hpp"

#include <algorithm>

#include <fmt/ranges.h>

#include "common/file_lock.hpp"
#include "common/output.hpp"
#include "common/random.hpp"
#include "compiler/git_history.hpp"
#include "ops/apps.hpp"
#include "ops/rights.hpp"
#include "ops/settings.hpp"
#include "runtime/app_name.hpp"
#include "runtime/apps.hpp"
#include "runtime/release_store.hpp"

namespace slipway::ops {

namespace {

// Whether the actor may see the pipeline: an admin sees every one, a collaborator those
// with an app of its own.
bool visible(const Context& context, const Pipeline& pipeline) {
  if (context.actor.admin) {
    return true;
  }
  return std::ranges::any_of(
      pipeline_members(context.layout, pipeline.id),
      [&](const PipelineMember& member) { return may_access(context, member.app); });
}

// Changes the app's coupling as a setting of the app (settings.hpp), recording the event
// `change` returns as the coupling's.
Expected<PipelineMember> change_coupling(const Context& context, const std::string& app,
                                         const std::function<Expected<Event>(AppInfo&)>& change) {
  PipelineMember member{.app = app};
  TRY(change_settings(context, app, [&](AppInfo& info) -> Expected<Event> {
    auto event = TRY(change(info));
    event.resource = "pipeline-coupling";
    member.app_id = info.id;
    member.promotion_only = info.promotion_only;
    if (info.coupling) {
      member.coupling = *info.coupling;
    }
    return event;
  }));
  return member;
}

Expected<PipelineMember> couple(const Context& context, const Pipeline& pipeline,
                                const std::string& app, Stage stage) {
  return change_coupling(context, app, [&](AppInfo& info) -> Expected<Event> {
    if (auto current = pipeline_member(context.layout, app); current && *current) {
      if ((*current)->coupling.pipeline == pipeline.id) {
        return fail_as(ErrorKind::conflict,
                       "app '{}' is already in pipeline '{}' as {}; move it with: slipway "
                       "pipelines:update -a {} --stage STAGE",
                       app, pipeline.name, to_string((*current)->coupling.stage), app);
      }
      auto other = slipway::find_pipeline(context.layout, (*current)->coupling.pipeline);
      return fail_as(ErrorKind::conflict,
                     "app '{}' is in pipeline '{}' already (an app is in one pipeline at most); "
                     "take it out first: slipway pipelines:remove -a {}",
                     app, other ? other->name : (*current)->coupling.pipeline, app);
    }
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    info.coupling = PipelineCoupling{.id = TRY(random_uuid()),
                                     .pipeline = pipeline.id,
                                     .stage = stage,
                                     .created_at = now,
                                     .updated_at = now};
    info.promotion_only = false;
    return Event{.action = "created",
                 .data = {{"pipeline", pipeline.name},
                          {"pipeline_id", pipeline.id},
                          {"stage", to_string(stage)},
                          {"message", fmt::format("Added to pipeline {} as {}", pipeline.name,
                                                  to_string(stage))}}};
  });
}

// The app's coupling to a pipeline that exists, else an error that says it has none.
Expected<PipelineMember> require_member(const Context& context, const std::string& app) {
  auto member = TRY(pipeline_member(context.layout, app));
  if (!member) {
    return fail_as(ErrorKind::not_found, "app '{}' is not in a pipeline", app);
  }
  return std::move(*member);
}

} // namespace

Expected<std::vector<Pipeline>> list_pipelines(const Context& context) {
  TRY(authorize(context, "pipelines"));
  auto pipelines = TRY(load_pipelines(context.layout));
  std::erase_if(pipelines, [&](const Pipeline& pipeline) { return !visible(context, pipeline); });
  return pipelines;
}

Expected<Pipeline> find_pipeline(const Context& context, std::string_view name_or_id) {
  auto pipeline = TRY(slipway::find_pipeline(context.layout, name_or_id));
  if (!visible(context, pipeline)) {
    // As if it did not exist: a key cannot probe other people's pipeline names.
    return fail_as(ErrorKind::not_found, "pipeline '{}' does not exist", printable(name_or_id));
  }
  return pipeline;
}

Expected<Pipeline> create_pipeline(const Context& context, const CreatePipeline& request) {
  TRY(authorize(context, "pipelines:create"));
  TRY(validate_pipeline_name(request.name));
  if (!request.app.empty()) {
    if (!request.stage) {
      return usage_error("adding '{}' to the new pipeline needs its stage: --stage STAGE",
                         request.app);
    }
    TRY(authorize(context, "pipelines:add", request.app));
    if (auto current = TRY(pipeline_member(context.layout, request.app))) {
      auto other = slipway::find_pipeline(context.layout, current->coupling.pipeline);
      return fail_as(ErrorKind::conflict,
                     "app '{}' is in pipeline '{}' already; take it out first: slipway "
                     "pipelines:remove -a {}",
                     request.app, other ? other->name : current->coupling.pipeline, request.app);
    }
  }
  Pipeline pipeline;
  {
    std::error_code ec;
    std::filesystem::create_directories(context.layout.pipelines_dir(), ec);
    auto lock = TRY(FileLock::acquire(context.layout.pipelines_lock(), FileLock::Mode::exclusive));
    auto pipelines = TRY(load_pipelines(context.layout));
    if (std::ranges::find(pipelines, request.name, &Pipeline::name) != pipelines.end()) {
      return fail_as(ErrorKind::conflict, "pipeline '{}' already exists", request.name);
    }
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    pipeline = {
        .id = TRY(random_uuid()), .name = request.name, .created_at = now, .updated_at = now};
    pipelines.push_back(pipeline);
    TRY(save_pipelines(context.layout, pipelines));
  }
  record(context, {.resource = "pipeline",
                   .action = "created",
                   .data = {{"pipeline", pipeline.name},
                            {"pipeline_id", pipeline.id},
                            {"message", fmt::format("Pipeline {} created", pipeline.name)}}});
  if (!request.app.empty()) {
    TRY(couple(context, pipeline, request.app, *request.stage));
  }
  return pipeline;
}

Expected<Pipeline> change_pipeline(const Context& context, const std::string& name_or_id,
                                   const std::function<Expected<bool>(Pipeline&)>& change) {
  auto lock = TRY(FileLock::acquire(context.layout.pipelines_lock(), FileLock::Mode::exclusive));
  auto pipelines = TRY(load_pipelines(context.layout));
  auto found = std::ranges::find_if(pipelines, [&](const Pipeline& pipeline) {
    return pipeline.name == name_or_id || pipeline.id == name_or_id;
  });
  if (found == pipelines.end()) {
    return fail_as(ErrorKind::not_found, "pipeline '{}' does not exist", printable(name_or_id));
  }
  if (TRY(change(*found))) {
    found->updated_at =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    TRY(save_pipelines(context.layout, pipelines));
  }
  return *found;
}

Expected<Pipeline> set_stage(const Context& context, const SetStage& request) {
  TRY(authorize(context, "pipelines:set"));
  if (request.settings.empty()) {
    return usage_error("name a setting: wait_for_ci=true|false");
  }
  std::optional<bool> wait_for_ci;
  for (const auto& [name, value] : request.settings) {
    if (name != "wait_for_ci") {
      return usage_error("unknown stage setting '{}' (use wait_for_ci)", printable(name));
    }
    if (value != "true" && value != "false") {
      return usage_error("{} must be true or false, not '{}'", name, printable(value));
    }
    wait_for_ci = value == "true";
  }
  bool changed = false;
  auto pipeline = TRY(change_pipeline(context, request.pipeline, [&](Pipeline& pipeline) {
    changed = wait_for_ci && set_wait_for_ci(pipeline, request.stage, *wait_for_ci);
    return Expected<bool>(changed);
  }));
  if (changed) {
    record(context,
           {.resource = "pipeline",
            .action = "updated",
            .data = {{"pipeline", pipeline.name},
                     {"pipeline_id", pipeline.id},
                     {"stage", to_string(request.stage)},
                     {"wait_for_ci", *wait_for_ci},
                     {"message", fmt::format("Set wait_for_ci={} on {}'s {} stage", *wait_for_ci,
                                             pipeline.name, to_string(request.stage))}}});
  }
  return pipeline;
}

Expected<Pipeline> rename_pipeline(const Context& context, const RenamePipeline& request) {
  TRY(authorize(context, "pipelines:rename"));
  TRY(validate_pipeline_name(request.to));
  std::string from;
  auto renamed =
      TRY(change_pipeline(context, request.pipeline, [&](Pipeline& pipeline) -> Expected<bool> {
        if (pipeline.name == request.to) {
          return usage_error("the pipeline is already called {}", request.to);
        }
        // Under the lock change_pipeline holds: no other rename can take the name meanwhile.
        auto pipelines = TRY(load_pipelines(context.layout));
        bool taken = std::ranges::find(pipelines, request.to, &Pipeline::name) != pipelines.end();
        if (taken) {
          return fail_as(ErrorKind::conflict, "pipeline '{}' already exists", request.to);
        }
        from = pipeline.name;
        pipeline.name = request.to;
        return true;
      }));
  record(context,
         {.resource = "pipeline",
          .action = "renamed",
          .data = {{"pipeline", renamed.name},
                   {"pipeline_id", renamed.id},
                   {"from", from},
                   {"message", fmt::format("Pipeline {} renamed to {}", from, renamed.name)}}});
  return renamed;
}

Expected<Pipeline> destroy_pipeline(const Context& context, const std::string& name_or_id) {
  TRY(authorize(context, "pipelines:destroy"));
  Pipeline doomed;
  {
    auto lock = TRY(FileLock::acquire(context.layout.pipelines_lock(), FileLock::Mode::exclusive));
    auto pipelines = TRY(load_pipelines(context.layout));
    auto found = std::ranges::find_if(pipelines, [&](const Pipeline& pipeline) {
      return pipeline.name == name_or_id || pipeline.id == name_or_id;
    });
    if (found == pipelines.end()) {
      return fail_as(ErrorKind::not_found, "pipeline '{}' does not exist", printable(name_or_id));
    }
    doomed = *found;
    pipelines.erase(found);
    TRY(save_pipelines(context.layout, pipelines));
  }
  // Gone from the list, its couplings count as none already; each app forgets its own. One
  // that cannot now (a long deploy holds its lock) is forgotten when it is next coupled.
  std::vector<std::string> apps;
  for (const auto& member : pipeline_members(context.layout, doomed.id)) {
    apps.push_back(member.app);
    Context quick = context;
    quick.wait = false;
    [[maybe_unused]] auto changed =
        change_coupling(quick, member.app, [&](AppInfo& info) -> Expected<Event> {
          if (!info.coupling || info.coupling->pipeline != doomed.id) {
            return fail("no longer in the pipeline");
          }
          info.coupling.reset();
          info.promotion_only = false;
          return Event{.action = "destroyed",
                       .data = {{"pipeline", doomed.name},
                                {"pipeline_id", doomed.id},
                                {"message", fmt::format("Removed from pipeline {} (destroyed)",
                                                        doomed.name)}}};
        });
  }
  record(context, {.resource = "pipeline",
                   .action = "destroyed",
                   .data = {{"pipeline", doomed.name},
                            {"pipeline_id", doomed.id},
                            {"apps", apps},
                            {"message", fmt::format("Pipeline {} destroyed", doomed.name)}}});
  return doomed;
}

Expected<PipelineMember> add_to_pipeline(const Context& context, const CoupleApp& request) {
  TRY(authorize(context, "pipelines:add", request.app));
  // A collaborator may add its app to a pipeline it cannot see yet: it names it exactly.
  auto pipeline = TRY(slipway::find_pipeline(context.layout, request.pipeline));
  return couple(context, pipeline, request.app, request.stage);
}

Expected<PipelineMember> update_coupling(const Context& context, const MoveApp& request) {
  TRY(authorize(context, "pipelines:update", request.app));
  TRY(require_member(context, request.app));
  return change_coupling(context, request.app, [&](AppInfo& info) -> Expected<Event> {
    if (!info.coupling) {
      return fail_as(ErrorKind::not_found, "app '{}' is not in a pipeline", request.app);
    }
    Stage from = info.coupling->stage;
    if (from == request.stage) {
      return usage_error("app '{}' is in the {} stage already", request.app,
                         to_string(request.stage));
    }
    info.coupling->stage = request.stage;
    info.coupling->updated_at =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    bool protection_ends = info.promotion_only && request.stage != Stage::production;
    if (protection_ends) {
      info.promotion_only = false;
    }
    return Event{
        .action = "updated",
        .data = {{"pipeline_id", info.coupling->pipeline},
                 {"stage", to_string(request.stage)},
                 {"from", to_string(from)},
                 {"message",
                  fmt::format("Moved from {} to {}{}", to_string(from), to_string(request.stage),
                              protection_ends ? " (promotion_only ends)" : "")}}};
  });
}

Expected<PipelineMember> remove_from_pipeline(const Context& context, const std::string& app) {
  TRY(authorize(context, "pipelines:remove", app));
  auto member = TRY(require_member(context, app));
  auto pipeline = slipway::find_pipeline(context.layout, member.coupling.pipeline);
  std::string name = pipeline ? pipeline->name : member.coupling.pipeline;
  TRY(change_coupling(context, app, [&](AppInfo& info) -> Expected<Event> {
    info.coupling.reset();
    info.promotion_only = false;
    return Event{.action = "destroyed",
                 .data = {{"pipeline", name},
                          {"pipeline_id", member.coupling.pipeline},
                          {"message", fmt::format("Removed from pipeline {}", name)}}};
  }));
  return member;
}

Expected<std::optional<PipelineMember>> app_coupling(const Context& context,
                                                     const std::string& app) {
  TRY(authorize(context, "pipelines:info", app));
  return pipeline_member(context.layout, app);
}

Expected<std::vector<PipelineMember>> list_couplings(const Context& context,
                                                     const std::string& pipeline) {
  TRY(authorize(context, "pipelines"));
  std::vector<Pipeline> pipelines;
  if (pipeline.empty()) {
    pipelines = TRY(list_pipelines(context));
  } else {
    pipelines.push_back(TRY(find_pipeline(context, pipeline)));
  }
  std::vector<PipelineMember> couplings;
  for (const auto& each : pipelines) {
    for (auto& member : pipeline_members(context.layout, each.id)) {
      if (may_access(context, member.app)) {
        couplings.push_back(std::move(member));
      }
    }
  }
  return couplings;
}

namespace {

// The live release's commit, if it has one.
std::optional<std::pair<int, std::string>> live_commit(const Layout& layout,
                                                       const std::string& app) {
  auto live = ReleaseStore(layout, app).live();
  if (!live || !*live || (*live)->commit.empty()) {
    return std::nullopt;
  }
  return std::pair((*live)->version, (*live)->commit);
}

StageDiff diff_against(const Context& context, const std::string& app,
                       const PipelineMember& upstream, std::size_t limit) {
  StageDiff diff{.upstream_app = upstream.app};
  if (!may_access(context, upstream.app)) {
    diff.problem =
        fmt::format("{} has no access to app '{}'", context.actor.describe(), upstream.app);
    return diff;
  }
  auto theirs = live_commit(context.layout, upstream.app);
  auto ours = live_commit(context.layout, app);
  if (ours) {
    diff.version = ours->first;
  }
  if (!theirs) {
    diff.problem = fmt::format("{} has no live release built from a commit", upstream.app);
    return diff;
  }
  diff.upstream_version = theirs->first;
  // The commit this app runs may be only in its own repository (a push to it): its
  // objects are searched too.
  auto commits = git::commits_between(context.layout.repo_dir(upstream.app), theirs->second,
                                      ours ? ours->second : std::string(), limit,
                                      context.layout.repo_dir(app));
  if (!commits) {
    diff.problem = commits.error().message;
    return diff;
  }
  for (auto& commit : *commits) {
    diff.commits.push_back({.id = std::move(commit.id),
                            .author = std::move(commit.author),
                            .email = std::move(commit.email),
                            .time = commit.time,
                            .subject = std::move(commit.subject)});
  }
  return diff;
}

// "3 commits behind web-staging v12", "up to date with web-staging v12", or the problem.
std::string summarize(const StageDiff& diff) {
  if (!diff.problem.empty()) {
    return diff.problem;
  }
  std::string upstream =
      fmt::format("{} v{}", diff.upstream_app, diff.upstream_version.value_or(0));
  if (diff.commits.empty()) {
    return "up to date with " + upstream;
  }
  std::size_t count = diff.commits.size();
  return fmt::format("{}{} commit{} behind {}", count >= k_counted_commits ? "at least " : "",
                     count, count == 1 ? "" : "s", upstream);
}

} // namespace

Expected<PipelineInfo> pipeline_info(const Context& context, const std::string& name_or_id) {
  TRY(authorize(context, "pipelines:info"));
  PipelineInfo out{.pipeline = TRY(find_pipeline(context, name_or_id))};
  auto members = pipeline_members(context.layout, out.pipeline.id);
  for (const auto& member : members) {
    if (!may_access(context, member.app)) {
      continue;
    }
    MemberStatus status{.member = member};
    if (auto live = live_commit(context.layout, member.app)) {
      status.live = live->first;
      status.commit = live->second;
    } else {
      status.live = ReleaseStore(context.layout, member.app).live_version();
    }
    if (auto upstream = upstream_of(member.coupling.stage)) {
      std::vector<std::string> lines;
      for (const auto& other : members) {
        if (other.coupling.stage == *upstream && may_access(context, other.app)) {
          lines.push_back(summarize(diff_against(context, member.app, other, k_counted_commits)));
        }
      }
      status.summary = fmt::format("{}", fmt::join(lines, "; "));
    }
    out.apps.push_back(std::move(status));
  }
  return out;
}

Expected<std::vector<StageDiff>> pipeline_diff(const Context& context, const std::string& app,
                                               std::size_t limit) {
  TRY(authorize(context, "pipelines:diff", app));
  auto member = TRY(require_member(context, app));
  auto upstream = upstream_of(member.coupling.stage);
  if (!upstream) {
    return usage_error("app '{}' is in the {} stage: no stage is upstream of it (diff a staging "
                       "or production app)",
                       app, to_string(member.coupling.stage));
  }
  auto sources = stage_members(context.layout, member, *upstream);
  if (sources.empty()) {
    auto pipeline = slipway::find_pipeline(context.layout, member.coupling.pipeline);
    return fail("pipeline '{}' has no app in the {} stage to compare '{}' with",
                pipeline ? pipeline->name : member.coupling.pipeline, to_string(*upstream), app);
  }
  std::vector<StageDiff> diffs;
  for (const auto& source : sources) {
    diffs.push_back(diff_against(context, app, source, limit));
  }
  return diffs;
}

} // namespace slipway::ops
