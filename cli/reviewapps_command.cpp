// reviewapps -p PIPELINE, reviewapps:enable -p PIPELINE [--autodeploy] [--autodestroy]
// [--stale-days N] [--wait-for-ci] [--max N], reviewapps:disable -p PIPELINE,
// reviewapps:create -p PIPELINE --branch B, reviewapps:destroy -p PIPELINE --branch B|--pr N
#include <cstdio>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "ops/review_apps.hpp"

namespace slipway::cli {

namespace {

struct ReviewAppsArgs {
  std::string pipeline;
  std::string branch;
  int pull_request = 0;
  bool autodeploy = false;
  bool autodestroy = false;
  bool wait_for_ci = false;
  int stale_days = 0;
  int max = 0;
  long long now = 0; // reviewapps:sweep's clock, in seconds since the epoch (tests')
  bool json = false;
};

nlohmann::json status_json(const ops::ReviewAppStatus& app) {
  return {{"app", app.app},
          {"id", app.app_id},
          {"branch", app.branch},
          {"pull_request", app.pull_request > 0 ? nlohmann::json(app.pull_request) : nullptr},
          {"parent", app.parent},
          {"url", app.url},
          {"status", app.status},
          {"last_build", app.last_build},
          {"message", app.message},
          {"commit", app.commit},
          {"pushed_at", format_time(app.pushed_at)},
          {"live", app.live ? nlohmann::json(*app.live) : nullptr},
          {"ci", app.ci}};
}

Expected<void> list(const Globals& globals, const ReviewAppsArgs& args) {
  auto apps = TRY(ops::list_review_apps(TRY(globals.context()), args.pipeline));
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& app : apps) {
      out.push_back(status_json(app));
    }
    std::puts(out.dump(2).c_str());
    return {};
  }
  if (apps.empty()) {
    print_line(fmt::format("{} has no review apps", args.pipeline));
    return {};
  }
  std::printf("%-24s %-32s %-9s %-6s %-8s %s\n", "branch", "app", "status", "live", "ci", "url");
  for (const auto& app : apps) {
    std::string status = app.last_build == "failed" ? "failed" : app.status;
    // A pull request's review app: its number before its branch.
    std::string branch =
        app.pull_request > 0 ? fmt::format("#{} {}", app.pull_request, app.branch) : app.branch;
    std::printf("%-24s %-32s %-9s %-6s %-8s %s\n", branch.c_str(), app.app.c_str(), status.c_str(),
                app.live ? fmt::format("v{}", *app.live).c_str() : "-",
                app.ci.empty() ? "-" : app.ci.c_str(), app.url.c_str());
  }
  return {};
}

Expected<void> enable(const Globals& globals, const ReviewAppsArgs& args) {
  auto pipeline = TRY(
      ops::enable_review_apps(TRY(globals.context()), {.pipeline = args.pipeline,
                                                       .settings = {.autodeploy = args.autodeploy,
                                                                    .autodestroy = args.autodestroy,
                                                                    .stale_days = args.stale_days,
                                                                    .max = args.max},
                                                       .wait_for_ci = args.wait_for_ci}));
  std::printf("Review apps enabled on %s: autodeploy=%s autodestroy=%s stale_days=%d max=%d "
              "wait_for_ci=%s\n",
              pipeline.name.c_str(), args.autodeploy ? "true" : "false",
              args.autodestroy ? "true" : "false", args.stale_days, args.max,
              args.wait_for_ci ? "true" : "false");
  return {};
}

Expected<void> disable(const Globals& globals, const ReviewAppsArgs& args) {
  auto pipeline = TRY(ops::disable_review_apps(TRY(globals.context()), args.pipeline));
  std::printf("Review apps disabled on %s (the review apps there are stay until their branch "
              "goes)\n",
              pipeline.name.c_str());
  return {};
}

Expected<void> create(const Globals& globals, const ReviewAppsArgs& args) {
  auto app = TRY(ops::create_review_app(TRY(globals.context()),
                                        {.pipeline = args.pipeline, .branch = args.branch}));
  std::printf("Review app %s of branch %s is live at %s\n", app.app.c_str(), app.branch.c_str(),
              app.url.c_str());
  return {};
}

Expected<void> destroy(const Globals& globals, const ReviewAppsArgs& args) {
  if (args.branch.empty() == (args.pull_request == 0)) {
    return usage_error("reviewapps:destroy takes --branch B or --pr N");
  }
  TRY(ops::destroy_review_app(
      TRY(globals.context()),
      {.pipeline = args.pipeline, .branch = args.branch, .pull_request = args.pull_request}));
  return {};
}

Expected<void> sweep(const Globals& globals, const ReviewAppsArgs& args) {
  TimePoint now =
      args.now > 0 ? TimePoint(std::chrono::seconds(args.now)) : std::chrono::system_clock::now();
  auto destroyed = TRY(ops::destroy_stale_review_apps(TRY(globals.context()), now));
  std::printf("%zu stale review apps destroyed\n", destroyed.size());
  return {};
}

} // namespace

void add_reviewapps_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<ReviewAppsArgs>();
  auto pipeline_option = [&](CLI::App* command) {
    command->add_option("-p,--pipeline", args->pipeline, "the pipeline")->required();
  };

  auto* list_cmd = app.add_subcommand("reviewapps", "list a pipeline's review apps");
  pipeline_option(list_cmd);
  list_cmd->add_flag("--json", args->json, "print JSON");
  list_cmd->callback(choose(globals, action, args, list));

  auto* enable_cmd = add_command(app, "reviewapps:enable",
                                 "enable review apps on a pipeline, or change how (an admin's)");
  pipeline_option(enable_cmd);
  enable_cmd->add_flag("--autodeploy", args->autodeploy,
                       "a push of a branch creates or updates its review app");
  enable_cmd->add_flag("--autodestroy", args->autodestroy,
                       "a branch merged into the deploy branch destroys its review app");
  enable_cmd->add_option("--stale-days", args->stale_days,
                         "destroy a review app after this many days without a push");
  enable_cmd->add_flag("--wait-for-ci", args->wait_for_ci,
                       "a review app deploys only once its commit's tests pass");
  enable_cmd->add_option("--max", args->max, "at most this many review apps at once");
  enable_cmd->callback(choose(globals, action, args, enable));

  auto* disable_cmd = add_command(app, "reviewapps:disable", "disable review apps (an admin's)");
  pipeline_option(disable_cmd);
  disable_cmd->callback(choose(globals, action, args, disable));

  auto* create_cmd =
      add_command(app, "reviewapps:create", "create (or redeploy) a branch's review app");
  pipeline_option(create_cmd);
  create_cmd->add_option("--branch", args->branch, "the branch")->required();
  create_cmd->callback(choose(globals, action, args, create));

  auto* destroy_cmd = add_command(app, "reviewapps:destroy", "destroy a branch's review app");
  pipeline_option(destroy_cmd);
  destroy_cmd->add_option("--branch", args->branch, "the branch");
  destroy_cmd->add_option("--pr", args->pull_request, "the pull request (a connected app's)")
      ->check(CLI::Range(1, 1'000'000'000));
  destroy_cmd->callback(choose(globals, action, args, destroy));

  auto* sweep_cmd =
      add_command(app, "reviewapps:sweep", "destroy stale review apps (the daemon runs it)");
  sweep_cmd->add_option("--now", args->now)->group(""); // tests' clock, seconds since the epoch
  sweep_cmd->group("");
  sweep_cmd->callback(choose(globals, action, args, sweep));
}

} // namespace slipway::cli
