// pipelines, pipelines:create NAME [-a APP -s STAGE], pipelines:add NAME -a APP -s STAGE,
// pipelines:update -a APP -s STAGE, pipelines:remove -a APP, pipelines:info NAME,
// pipelines:rename NAME NEW, pipelines:set NAME -s STAGE SETTING=VALUE, pipelines:destroy NAME,
// pipelines:promote -a APP [--to APPS]
// [--release vN], pipelines:diff -a APP
#include <cstdio>

#include <fmt/ranges.h>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "ops/pipelines.hpp"

namespace slipway::cli {

namespace {

struct PipelinesArgs {
  std::string pipeline;
  std::string new_name; // pipelines:rename's
  std::string app;
  std::string stage;
  std::string to;                    // pipelines:promote's targets, comma-separated
  std::string release;               // pipelines:promote's vN
  std::string run_promotion;         // internal: run this recorded promotion (the Platform API's)
  std::vector<std::string> settings; // pipelines:set's NAME=VALUE
  bool force = false;
  bool json = false;
};

Expected<Stage> stage_argument(const PipelinesArgs& args) {
  if (args.stage.empty()) {
    return usage_error("name the app's stage: --stage review|development|staging|production");
  }
  return parse_stage(args.stage);
}

nlohmann::json pipeline_json(const Pipeline& pipeline) {
  nlohmann::json stages = nlohmann::json::array();
  for (Stage stage : pipeline.wait_for_ci) {
    stages.push_back(to_string(stage));
  }
  return {{"id", pipeline.id},
          {"name", pipeline.name},
          {"created_at", format_time(pipeline.created_at)},
          {"updated_at", format_time(pipeline.updated_at)},
          {"wait_for_ci", std::move(stages)}};
}

Expected<void> list(const Globals& globals, const PipelinesArgs& args) {
  auto pipelines = TRY(ops::list_pipelines(TRY(globals.context())));
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& pipeline : pipelines) {
      out.push_back(pipeline_json(pipeline));
    }
    std::puts(out.dump(2).c_str());
    return {};
  }
  for (const auto& pipeline : pipelines) {
    std::puts(pipeline.name.c_str());
  }
  return {};
}

Expected<void> create(const Globals& globals, const PipelinesArgs& args) {
  std::optional<Stage> stage;
  if (!args.stage.empty()) {
    stage = TRY(parse_stage(args.stage));
  }
  auto pipeline = TRY(ops::create_pipeline(
      TRY(globals.context()), {.name = args.pipeline, .app = args.app, .stage = stage}));
  std::printf("Created pipeline %s\n", pipeline.name.c_str());
  if (!args.app.empty()) {
    std::printf("Added %s to %s as %s\n", args.app.c_str(), pipeline.name.c_str(),
                args.stage.c_str());
  }
  return {};
}

Expected<void> add(const Globals& globals, const PipelinesArgs& args) {
  auto member = TRY(ops::add_to_pipeline(
      TRY(globals.context()),
      {.pipeline = args.pipeline, .app = args.app, .stage = TRY(stage_argument(args))}));
  std::printf("Added %s to %s as %s\n", member.app.c_str(), args.pipeline.c_str(),
              std::string(to_string(member.coupling.stage)).c_str());
  return {};
}

Expected<void> update(const Globals& globals, const PipelinesArgs& args) {
  auto member = TRY(ops::update_coupling(TRY(globals.context()),
                                         {.app = args.app, .stage = TRY(stage_argument(args))}));
  std::printf("Moved %s to %s\n", member.app.c_str(),
              std::string(to_string(member.coupling.stage)).c_str());
  return {};
}

Expected<void> remove(const Globals& globals, const PipelinesArgs& args) {
  TRY(ops::remove_from_pipeline(TRY(globals.context()), args.app));
  std::printf("Removed %s from its pipeline\n", args.app.c_str());
  return {};
}

Expected<void> info(const Globals& globals, const PipelinesArgs& args) {
  auto info = TRY(ops::pipeline_info(TRY(globals.context()), args.pipeline));
  if (args.json) {
    nlohmann::json apps = nlohmann::json::array();
    for (const auto& status : info.apps) {
      apps.push_back({{"name", status.member.app},
                      {"id", status.member.app_id},
                      {"stage", to_string(status.member.coupling.stage)},
                      {"live", status.live ? nlohmann::json(*status.live) : nullptr},
                      {"commit", status.commit},
                      {"promotion_only", status.member.promotion_only},
                      {"summary", status.summary}});
    }
    nlohmann::json out = {{"pipeline", pipeline_json(info.pipeline)}, {"apps", apps}};
    std::puts(out.dump(2).c_str());
    return {};
  }
  std::printf("=== %s\n", info.pipeline.name.c_str());
  for (Stage stage : info.pipeline.wait_for_ci) {
    std::printf("%s waits for CI\n", std::string(to_string(stage)).c_str());
  }
  if (info.apps.empty()) {
    std::puts("(no apps: add one with pipelines:add)");
    return {};
  }
  std::printf("%-30s %-12s %-6s %-8s %s\n", "app name", "stage", "live", "commit", "status");
  for (const auto& status : info.apps) {
    std::string summary = status.summary;
    if (status.member.promotion_only) {
      summary += summary.empty() ? "promotion only" : " (promotion only)";
    }
    std::printf("%-30s %-12s %-6s %-8s %s\n", status.member.app.c_str(),
                std::string(to_string(status.member.coupling.stage)).c_str(),
                status.live ? fmt::format("v{}", *status.live).c_str() : "-",
                status.commit.empty() ? "-" : status.commit.substr(0, 7).c_str(), summary.c_str());
  }
  return {};
}

Expected<void> rename(const Globals& globals, const PipelinesArgs& args) {
  auto pipeline = TRY(ops::rename_pipeline(TRY(globals.context()),
                                           {.pipeline = args.pipeline, .to = args.new_name}));
  std::printf("Renamed pipeline %s to %s\n", args.pipeline.c_str(), pipeline.name.c_str());
  return {};
}

Expected<void> set(const Globals& globals, const PipelinesArgs& args) {
  ops::SetStage request{.pipeline = args.pipeline};
  if (args.stage.empty()) {
    return usage_error("name the stage: --stage review|development|staging|production");
  }
  request.stage = TRY(parse_stage(args.stage));
  for (const auto& pair : args.settings) {
    auto equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) {
      return usage_error("'{}' is not NAME=VALUE (pipelines:set P -s staging wait_for_ci=true)",
                         printable(pair));
    }
    request.settings.emplace_back(pair.substr(0, equals), pair.substr(equals + 1));
  }
  auto pipeline = TRY(ops::set_stage(TRY(globals.context()), request));
  bool gated = std::ranges::find(pipeline.wait_for_ci, request.stage) != pipeline.wait_for_ci.end();
  std::printf("%s %s: wait_for_ci=%s\n", pipeline.name.c_str(), args.stage.c_str(),
              gated ? "true" : "false");
  return {};
}

Expected<void> destroy(const Globals& globals, const PipelinesArgs& args) {
  auto pipeline = TRY(ops::destroy_pipeline(TRY(globals.context()), args.pipeline));
  std::printf("Destroyed pipeline %s (its apps stay as they are)\n", pipeline.name.c_str());
  return {};
}

// The summary: one line per target, and an error when any failed (Heroku's exit status).
Expected<void> print_summary(const Promotion& promotion) {
  std::printf(
      "=== Promotion of %s v%d%s\n", promotion.source_app.c_str(), promotion.source_version,
      promotion.commit.empty() ? "" : fmt::format(" ({})", promotion.commit.substr(0, 7)).c_str());
  std::size_t failed = 0;
  for (const auto& target : promotion.targets) {
    std::string detail = target.status == "succeeded"
                             ? fmt::format("v{}", target.version.value_or(0))
                             : target.error_message;
    failed += target.status != "succeeded" ? 1 : 0;
    std::printf("%-30s %-10s %s\n", target.app.c_str(), target.status.c_str(), detail.c_str());
  }
  std::fflush(stdout);
  if (failed > 0) {
    return fail("promotion to {} of {} app{} failed", failed, promotion.targets.size(),
                promotion.targets.size() == 1 ? "" : "s");
  }
  return {};
}

Expected<void> promote(const Globals& globals, const PipelinesArgs& args) {
  auto context = TRY(globals.context());
  if (!args.run_promotion.empty()) {
    // The Platform API's promotion, in its own process: the record is its output.
    TRY(ops::run_promotion(context, args.run_promotion, {}));
    return {};
  }
  if (args.app.empty()) {
    return usage_error("name the app to promote from: pipelines:promote -a APP");
  }
  ops::Promote request{.app = args.app, .force = args.force};
  for (std::size_t start = 0; start < args.to.size();) {
    std::size_t comma = args.to.find(',', start);
    std::string name = args.to.substr(start, comma - start);
    if (!name.empty()) {
      request.to.push_back(name);
    }
    start = comma == std::string::npos ? args.to.size() : comma + 1;
  }
  if (!args.release.empty()) {
    request.version = TRY(parse_version(args.release));
  }
  auto started = TRY(ops::start_promotion(context, request));
  std::vector<std::string> names;
  for (const auto& target : started.targets) {
    names.push_back(target.app);
  }
  print_line(fmt::format("-----> Promoting {} v{}{} to {}: its slug {}, no build",
                         started.source_app, started.source_version,
                         started.commit.empty() ? std::string()
                                                : fmt::format(" ({})", started.commit.substr(0, 7)),
                         fmt::join(names, ", "), started.slug.substr(0, 19) + "…"));
  auto finished = TRY(ops::run_promotion(context, started.id, [](const PromotionTarget& target) {
    print_line(target.status == "succeeded"
                   ? fmt::format("-----> {} is live at v{}", target.app, target.version.value_or(0))
                   : fmt::format(" !     {}: {}", target.app, target.error_message));
  }));
  return print_summary(finished);
}

Expected<void> diff(const Globals& globals, const PipelinesArgs& args) {
  auto diffs = TRY(ops::pipeline_diff(TRY(globals.context()), args.app));
  std::size_t problems = 0;
  for (const auto& diff : diffs) {
    if (!diff.problem.empty()) {
      ++problems;
      print_line(fmt::format(" !     {} was not compared with {}: {}", args.app, diff.upstream_app,
                             diff.problem));
      continue;
    }
    std::string upstream =
        fmt::format("{} v{}", diff.upstream_app, diff.upstream_version.value_or(0));
    if (diff.commits.empty()) {
      std::printf("=== %s is up to date with %s\n", args.app.c_str(), upstream.c_str());
      continue;
    }
    std::printf("=== %s is %zu commit%s behind %s\n", args.app.c_str(), diff.commits.size(),
                diff.commits.size() == 1 ? "" : "s", upstream.c_str());
    for (const auto& commit : diff.commits) {
      std::printf("%s  %s  %s <%s>  %s\n", commit.id.substr(0, 7).c_str(),
                  format_time(commit.time).c_str(), commit.author.c_str(), commit.email.c_str(),
                  commit.subject.c_str());
    }
  }
  if (problems == diffs.size()) {
    return fail("nothing to compare {} with", args.app);
  }
  return {};
}

} // namespace

void add_pipelines_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<PipelinesArgs>();
  auto add_stage = [&](CLI::App* command) {
    command->add_option("-s,--stage", args->stage, "review, development, staging or production");
  };

  auto* pipelines = app.add_subcommand("pipelines", "list the pipelines");
  pipelines->add_flag("--json", args->json, "print JSON");
  pipelines->callback(choose(globals, action, args, list));

  auto* create_cmd = add_command(app, "pipelines:create", "create a pipeline (an admin's)");
  create_cmd->add_option("NAME", args->pipeline, "the pipeline's name")->required();
  create_cmd->add_option("-a,--app", args->app, "an app to add to it");
  add_stage(create_cmd);
  create_cmd->callback(choose(globals, action, args, create));

  auto* add_cmd = add_command(app, "pipelines:add", "add an app to a pipeline at a stage");
  add_cmd->add_option("PIPELINE", args->pipeline, "the pipeline")->required();
  add_app_option(add_cmd, args->app);
  add_stage(add_cmd);
  add_cmd->callback(choose(globals, action, args, add));

  auto* update_cmd = add_command(app, "pipelines:update", "move an app to another stage");
  add_app_option(update_cmd, args->app);
  add_stage(update_cmd);
  update_cmd->callback(choose(globals, action, args, update));

  auto* remove_cmd = add_command(app, "pipelines:remove", "take an app out of its pipeline");
  add_app_option(remove_cmd, args->app);
  remove_cmd->callback(choose(globals, action, args, remove));

  auto* info_cmd = add_command(app, "pipelines:info",
                               "show a pipeline's apps by stage, and how far each is behind");
  info_cmd->add_option("PIPELINE", args->pipeline, "the pipeline")->required();
  info_cmd->add_flag("--json", args->json, "print JSON");
  info_cmd->callback(choose(globals, action, args, info));

  auto* rename_cmd = add_command(app, "pipelines:rename", "rename a pipeline (an admin's)");
  rename_cmd->add_option("PIPELINE", args->pipeline, "the pipeline")->required();
  rename_cmd->add_option("NAME", args->new_name, "its new name")->required();
  rename_cmd->callback(choose(globals, action, args, rename));

  auto* set_cmd = add_command(app, "pipelines:set",
                              "change a stage's settings: wait_for_ci=true|false (an admin's)");
  set_cmd->add_option("PIPELINE", args->pipeline, "the pipeline")->required();
  set_cmd->add_option("-s,--stage", args->stage, "the stage")->required();
  set_cmd->add_option("NAME=VALUE", args->settings, "the settings")->required();
  set_cmd->callback(choose(globals, action, args, set));

  auto* destroy_cmd =
      add_command(app, "pipelines:destroy", "destroy a pipeline (its apps stay; an admin's)");
  destroy_cmd->add_option("PIPELINE", args->pipeline, "the pipeline")->required();
  destroy_cmd->callback(choose(globals, action, args, destroy));

  auto* promote_cmd = add_command(
      app, "pipelines:promote",
      "release an app's live slug (or --release vN's) on the apps of the next stage, or --to "
      "apps: no build, each target's own config");
  promote_cmd->add_option("-a,--app", args->app, "the app to promote from");
  promote_cmd->add_option("-t,--to", args->to, "the apps to promote to, comma-separated");
  promote_cmd->add_option("--release", args->release, "the release to promote, e.g. v3");
  promote_cmd->add_flag("--force", args->force,
                        "promote a release whose commit has no passing test run (recorded)");
  promote_cmd->add_option("--run-promotion", args->run_promotion)->group("");
  promote_cmd->callback(choose(globals, action, args, promote));

  auto* diff_cmd = add_command(app, "pipelines:diff",
                               "the commits the upstream stage runs and this app does not");
  add_app_option(diff_cmd, args->app);
  diff_cmd->callback(choose(globals, action, args, diff));
}

} // namespace slipway::cli
