#include "ops/test_runs.hpp"

#include <algorithm>

#include <fmt/ranges.h>

#include "common/files.hpp"
#include "common/output.hpp"
#include "common/paths.hpp"
#include "common/random.hpp"
#include "common/subprocess.hpp"
#include "compiler/git.hpp"
#include "compiler/git_history.hpp"
#include "ops/pipelines.hpp"
#include "ops/rights.hpp"
#include "ops/settings.hpp"
#include "runtime/apps.hpp"
#include "runtime/test_runner.hpp"

namespace slipway::ops {

namespace fs = std::filesystem;

namespace {

// The commit `ref` names in the app's repository, and the branch when it is one.
Expected<std::pair<std::string, std::string>>
resolve(const Context& context, const std::string& app, const std::string& ref) {
  fs::path repo = context.layout.repo_dir(app);
  if (is_commit_id(ref)) {
    if (!TRY(git::has_commit(repo, ref))) {
      return fail_as(ErrorKind::not_found, "commit {} is not in {}'s repository", ref, app);
    }
    return std::pair(ref, std::string());
  }
  std::vector<std::string> branches;
  if (ref.empty()) {
    branches = deploy_branches(context.config, TRY(app_info(context.layout, app)));
  } else {
    if (!is_branch_name(ref)) {
      return usage_error("'{}' is neither a branch name nor a full commit id", printable(ref));
    }
    branches = {ref};
  }
  for (const auto& branch : branches) {
    if (auto tip = TRY(git::read_ref(repo, "refs/heads/" + branch))) {
      return std::pair(*tip, branch);
    }
  }
  return fail_as(ErrorKind::not_found, "{} has no branch {} to test", app,
                 ref.empty() ? fmt::format("{}", fmt::join(branches, " or ")) : ref);
}

TimePoint now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

} // namespace

Expected<TestRun> create_test_run(const Context& context, const StartTestRun& request) {
  TRY(authorize(context, "ci:run", request.app));
  auto [commit, branch] = request.commit.empty() ? TRY(resolve(context, request.app, request.ref))
                                                 : std::pair(request.commit, request.branch);
  if (!is_commit_id(commit)) {
    return usage_error("'{}' is not a full commit id", printable(commit));
  }
  auto info = TRY(app_info(context.layout, request.app));
  TestRun run{.id = TRY(random_uuid()),
              .app = request.app,
              .app_id = info.id,
              .commit = commit,
              .branch = branch,
              .actor = context.actor.name,
              .gates = request.gates,
              .created_at = now_seconds(),
              .updated_at = now_seconds()};
  if (auto member = TRY(pipeline_member(context.layout, request.app))) {
    run.pipeline_id = member->coupling.pipeline;
  }
  run = TRY(slipway::create_test_run(context.layout, run));
  record(context, {.app = run.app,
                   .resource = "test-run",
                   .action = "created",
                   .data = {{"number", run.number},
                            {"id", run.id},
                            {"commit", run.commit},
                            {"branch", run.branch},
                            {"message", fmt::format("Test run #{} of {} queued", run.number,
                                                    run.commit.substr(0, 7))}}});
  return run;
}

Expected<TestRun> run_test_run(const Context& context, int number,
                               const std::function<void(std::string_view)>& on_output) {
  auto run = TRY(load_test_run(context.layout, number));
  TRY(authorize(context, "ci:run", run.app));
  return execute_test_run(context.layout, context.config, number, on_output);
}

Expected<void> spawn_test_run(const Context& context, int number) {
  std::vector<std::string> argv = {
      self_executable().string(), "--root", context.layout.root().string(), "ci:run", "--run",
      std::to_string(number)};
  if (context.actor.local) {
    return spawn_detached(argv, {}, {"SLIPWAY_USER"});
  }
  return spawn_detached(argv, {{"SLIPWAY_USER", context.actor.name}});
}

Expected<std::vector<TestRun>> list_test_runs(const Context& context, const std::string& app,
                                              const std::string& pipeline, std::size_t limit) {
  if (!app.empty()) {
    TRY(authorize(context, "ci", app));
    return slipway::list_test_runs(context.layout, app, "", limit);
  }
  TRY(authorize(context, "ci"));
  if (pipeline.empty()) {
    return usage_error("name the app (-a APP) or the pipeline (-p PIPELINE)");
  }
  auto found = TRY(find_pipeline(context, pipeline));
  auto runs = slipway::list_test_runs(context.layout, "", found.id, 0);
  std::erase_if(runs, [&](const TestRun& run) { return !may_access(context, run.app); });
  if (limit > 0 && runs.size() > limit) {
    runs.resize(limit);
  }
  return runs;
}

Expected<TestRun> test_run(const Context& context, int number) {
  TRY(authorize(context, "ci:info"));
  auto run = TRY(load_test_run(context.layout, number));
  if (!may_access(context, run.app)) {
    return fail_as(ErrorKind::not_found, "test run #{} does not exist", number);
  }
  return run;
}

Expected<std::string> test_run_output(const Context& context, int number, std::optional<int> node) {
  auto run = TRY(test_run(context, number));
  fs::path file = context.layout.test_run_dir(number) / "build.log";
  if (node) {
    if (*node < 0 || *node >= static_cast<int>(run.nodes.size())) {
      return usage_error("test run #{} has {} node{}: --node 0{}", number, run.nodes.size(),
                         run.nodes.size() == 1 ? "" : "s",
                         run.nodes.size() > 1 ? fmt::format("..{}", run.nodes.size() - 1) : "");
    }
    file = context.layout.test_run_dir(number) / fmt::format("node-{}.log", *node);
  }
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return std::string();
  }
  return read_file(file);
}

Expected<TestRun> rerun_test_run(const Context& context, int number) {
  auto run = TRY(test_run(context, number));
  TRY(authorize(context, "ci:rerun", run.app));
  return create_test_run(context, {.app = run.app, .ref = run.commit});
}

} // namespace slipway::ops
