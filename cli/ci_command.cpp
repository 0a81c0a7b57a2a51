// ci -a APP|-p PIPELINE, ci:info N, ci:last, ci:run -a APP [BRANCH|COMMIT], ci:rerun [N],
// ci:output N [--node I]
#include <cstdio>

#include <fmt/ranges.h>

#include "cli/cli.hpp"
#include "ops/test_runs.hpp"

namespace slipway::cli {

namespace {

struct CiArgs {
  std::string app;
  std::string pipeline;
  std::string ref;
  int number = 0;
  int run = 0; // internal: run this queued run here (a detached runner)
  std::optional<int> node;
  std::size_t count = 10;
  bool json = false;
};

std::string duration(const TestRun& run) {
  auto end = run.finished_at.value_or(std::chrono::system_clock::now());
  return format_duration(std::chrono::duration_cast<std::chrono::seconds>(end - run.created_at));
}

nlohmann::json run_json(const TestRun& run) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& node : run.nodes) {
    nodes.push_back({{"index", node.index},
                     {"status", node.status},
                     {"exit_code", node.exit_code ? nlohmann::json(*node.exit_code) : nullptr},
                     {"message", node.message},
                     {"tap", node.tap},
                     {"planned", node.planned ? nlohmann::json(*node.planned) : nullptr},
                     {"passed", node.passed},
                     {"failed", node.failed},
                     {"skipped", node.skipped}});
  }
  return {
      {"number", run.number},
      {"id", run.id},
      {"app", run.app},
      {"commit", run.commit},
      {"branch", run.branch},
      {"status", run.status},
      {"message", run.message},
      {"actor", run.actor},
      {"created_at", format_time(run.created_at)},
      {"finished_at", run.finished_at ? nlohmann::json(format_time(*run.finished_at)) : nullptr},
      {"nodes", nodes}};
}

void print_row(const TestRun& run) {
  std::printf("#%-5d %-10s %-16s %-8s %-8s %s\n", run.number, run.status.c_str(),
              (run.branch.empty() ? "-" : run.branch).c_str(), run.commit.substr(0, 7).c_str(),
              duration(run).c_str(), run.message.c_str());
}

Expected<void> print_run(const TestRun& run, bool json) {
  if (json) {
    std::puts(run_json(run).dump(2).c_str());
    return {};
  }
  std::printf("=== Test run #%d of %s: %s\n", run.number, run.app.c_str(), run.status.c_str());
  std::printf("Commit:   %s%s\nBy:       %s\nCreated:  %s\nDuration: %s\nResult:   %s\n",
              run.commit.c_str(), run.branch.empty() ? "" : (" (" + run.branch + ")").c_str(),
              run.actor.c_str(), format_time(run.created_at).c_str(), duration(run).c_str(),
              run.message.c_str());
  for (const auto& node : run.nodes) {
    std::printf("node %d: %s%s%s\n", node.index, node.status.c_str(),
                node.tap ? fmt::format(" ({} passed, {} failed, {} skipped)", node.passed,
                                       node.failed, node.skipped)
                               .c_str()
                         : "",
                node.message.empty() ? "" : (": " + node.message).c_str());
  }
  return {};
}

Expected<void> list(const Globals& globals, const CiArgs& args) {
  auto runs = TRY(ops::list_test_runs(TRY(globals.context()), args.app, args.pipeline, args.count));
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& run : runs) {
      out.push_back(run_json(run));
    }
    std::puts(out.dump(2).c_str());
    return {};
  }
  for (const auto& run : runs) {
    print_row(run);
  }
  return {};
}

Expected<void> info(const Globals& globals, const CiArgs& args) {
  return print_run(TRY(ops::test_run(TRY(globals.context()), args.number)), args.json);
}

Expected<void> last(const Globals& globals, const CiArgs& args) {
  auto runs = TRY(ops::list_test_runs(TRY(globals.context()), args.app, args.pipeline, 1));
  if (runs.empty()) {
    return fail_as(ErrorKind::not_found, "no test run yet");
  }
  return print_run(runs.front(), args.json);
}

// Runs `run` here, streaming, and fails unless it succeeded.
Expected<void> run_here(const ops::Context& context, int number) {
  auto run =
      TRY(ops::run_test_run(context, number, [](std::string_view line) { print_line(line); }));
  if (run.status != "succeeded") {
    return fail("test run #{} {}: {}", run.number, run.status, run.message);
  }
  print_line(fmt::format("-----> Test run #{} succeeded: {}", run.number, run.message));
  return {};
}

Expected<void> start(const Globals& globals, const CiArgs& args) {
  auto context = TRY(globals.context());
  if (args.run > 0) {
    auto ran = ops::run_test_run(context, args.run, {});
    return ran ? Expected<void>() : std::unexpected(ran.error());
  }
  auto run = TRY(ops::create_test_run(context, {.app = args.app, .ref = args.ref}));
  return run_here(context, run.number);
}

Expected<void> rerun(const Globals& globals, const CiArgs& args) {
  auto context = TRY(globals.context());
  int number = args.number;
  if (number == 0) {
    auto runs = TRY(ops::list_test_runs(context, args.app, args.pipeline, 1));
    if (runs.empty()) {
      return fail_as(ErrorKind::not_found, "no test run to run again");
    }
    number = runs.front().number;
  }
  auto run = TRY(ops::rerun_test_run(context, number));
  print_line(fmt::format("-----> Test run #{}: #{} again ({})", run.number, number,
                         run.commit.substr(0, 7)));
  return run_here(context, run.number);
}

Expected<void> output(const Globals& globals, const CiArgs& args) {
  print_text(TRY(ops::test_run_output(TRY(globals.context()), args.number, args.node)));
  return {};
}

} // namespace

void add_ci_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<CiArgs>();
  auto scope = [&](CLI::App* command) {
    command->add_option("-a,--app", args->app, "the app");
    command->add_option("-p,--pipeline", args->pipeline, "the pipeline");
  };

  auto* ci = app.add_subcommand("ci", "list test runs, newest first");
  scope(ci);
  ci->add_option("-n,--num", args->count, "how many (0: all)");
  ci->add_flag("--json", args->json, "print JSON");
  ci->callback(choose(globals, action, args, list));

  auto* info_cmd = add_command(app, "ci:info", "show a test run and its nodes");
  info_cmd->add_option("NUMBER", args->number, "the run's number")->required();
  info_cmd->add_flag("--json", args->json, "print JSON");
  info_cmd->callback(choose(globals, action, args, info));

  auto* last_cmd = add_command(app, "ci:last", "show the newest test run");
  scope(last_cmd);
  last_cmd->add_flag("--json", args->json, "print JSON");
  last_cmd->callback(choose(globals, action, args, last));

  auto* run_cmd = add_command(app, "ci:run",
                              "run an app's tests on a branch or commit (default: its deploy "
                              "branch), as Heroku CI does, and stream them");
  run_cmd->add_option("-a,--app", args->app, "the app");
  run_cmd->add_option("REF", args->ref, "a branch or a full commit id");
  run_cmd->add_option("--run", args->run)->group("");
  run_cmd->callback(choose(globals, action, args, start));

  auto* rerun_cmd =
      add_command(app, "ci:rerun", "run a test run's commit again (default: the newest)");
  rerun_cmd->add_option("NUMBER", args->number, "the run's number");
  scope(rerun_cmd);
  rerun_cmd->callback(choose(globals, action, args, rerun));

  auto* output_cmd =
      add_command(app, "ci:output", "print a test run's output (its build, or a node's)");
  output_cmd->add_option("NUMBER", args->number, "the run's number")->required();
  output_cmd->add_option("--node", args->node, "the node (0-based)");
  output_cmd->callback(choose(globals, action, args, output));
}

} // namespace slipway::cli
