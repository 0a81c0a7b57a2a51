#include "runtime/test_runner.hpp"

#include <algorithm>
#include <atomic>
#include <fcntl.h>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "common/fd.hpp"
#include "common/files.hpp"
#include "common/output.hpp"
#include "common/random.hpp"
#include "common/scratch_dir.hpp"
#include "common/tree.hpp"
#include "compiler/app_manifest.hpp"
#include "compiler/compile.hpp"
#include "compiler/git_export.hpp"
#include "compiler/tap.hpp"
#include "compiler/test_script.hpp"
#include "runtime/apps.hpp"
#include "runtime/events.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

TimePoint now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// The run's config vars (Heroku CI's), written as an env dir: app.json's environments.test
// env, then what every run sets.
Expected<void> write_env_dir(const fs::path& dir, const std::map<std::string, std::string>& vars) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const auto& [name, value] : vars) {
    TRY(write_file_atomic(dir / name, value, 0644));
  }
  return {};
}

// Appends lines to a log of the run and hands them on.
class RunLog {
 public:
  RunLog(const fs::path& file, std::function<void(std::string_view)> forward)
      : m_fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)),
        m_forward(std::move(forward)) {}
  void operator()(std::string_view line) {
    keep(line);
    if (m_forward) {
      m_forward(line);
    }
  }
  // Into the log only: what the caller says its own way (the run's result).
  void keep(std::string_view line) {
    std::lock_guard lock(m_mutex);
    if (m_fd) {
      [[maybe_unused]] auto written = write_all(m_fd.get(), std::string(line) + "\n");
    }
  }

 private:
  UniqueFd m_fd;
  std::function<void(std::string_view)> m_forward;
  std::mutex m_mutex;
};

void record(const Layout& layout, const Config& config, const TestRun& run, std::string action) {
  Event event{.app = run.app,
              .resource = "test-run",
              .action = std::move(action),
              .actor = run.actor,
              .data = {{"number", run.number},
                       {"id", run.id},
                       {"commit", run.commit},
                       {"branch", run.branch},
                       {"status", run.status},
                       {"message", fmt::format("Test run #{} {}{}", run.number, run.status,
                                               run.message.empty() ? "" : ": " + run.message)}}};
  [[maybe_unused]] auto recorded = record_event(layout, config, std::move(event));
}

} // namespace

Expected<TestRun>
execute_test_run(const Layout& layout, const Config& config, int number,
                 const std::function<void(std::string_view)>& on_output,
                 const std::function<Expected<void>(const fs::path&)>& export_source) {
  auto claim = TRY(claim_test_run(layout, number));
  auto run = TRY(load_test_run(layout, number));
  if (run.started || run.status != "pending") {
    return fail_as(ErrorKind::conflict, "test run #{} has run already", number);
  }
  Deadline deadline(config.ci.timeout);
  run.started = true;
  run.status = "building";
  run.updated_at = now_seconds();
  TRY(save_test_run(layout, run));
  RunLog build_log(layout.test_run_dir(number) / "build.log", on_output);

  // Ends the run as `status` with `message`, recorded and told.
  auto finish = [&](std::string status, std::string message) -> Expected<TestRun> {
    run.status = std::move(status);
    run.message = std::move(message);
    run.finished_at = now_seconds();
    run.updated_at = *run.finished_at;
    for (TestNode& node : run.nodes) {
      if (!is_finished_status(node.status)) {
        node.status = run.status == "errored" ? "errored" : node.status;
        node.message = node.message.empty() ? run.message : node.message;
      }
    }
    TRY(save_test_run(layout, run));
    record(layout, config, run, run.status);
    build_log.keep(
        run.status == "succeeded"
            ? step_line(fmt::format("Test run #{} succeeded: {}", number, run.message))
            : failure_line(fmt::format("test run #{} {}: {}", number, run.status, run.message)));
    return run;
  };

  auto identity = TRY(app_identity(layout, config, run.app));
  // Beside its logs, not in the app's tmp/: that is what operations on the app clear.
  auto scratch = TRY(ScratchDir::create(layout.test_run_dir(number), "work", 0711));
  fs::path build_dir = scratch.path() / "app";
  std::error_code ec;
  fs::create_directories(build_dir, ec);
  build_log(step_line(fmt::format("Test run #{}: building {} from {}{}", number, run.app,
                                  run.commit.substr(0, 7),
                                  run.branch.empty() ? "" : " (" + run.branch + ")")));
  auto exported = [&]() -> Expected<void> {
    if (export_source) {
      return export_source(build_dir);
    }
    auto repo = TRY(git::open(layout.repo_dir(run.app)));
    TRY(git::export_commit(repo.get(), run.commit, build_dir));
    return {};
  }();
  if (!exported) {
    return finish("errored", exported.error().message);
  }
  auto manifest = read_app_json(build_dir);
  if (!manifest) {
    return finish("errored", manifest.error().message);
  }
  EnvironmentSpec test = *manifest ? (*manifest)->test : EnvironmentSpec{};
  std::map<std::string, std::string> vars;
  for (const EnvVarSpec& spec : test.env) {
    if (spec.value) {
      vars[spec.name] = *spec.value;
    } else if (spec.secret) {
      vars[spec.name] = TRY(random_hex(32));
    }
  }
  int nodes = std::clamp(test.test_nodes.value_or(1), 1, 32);
  vars["CI"] = "true";
  vars["SLIPWAY_TEST_RUN_ID"] = run.id;
  vars["HEROKU_TEST_RUN_ID"] = run.id;
  vars["HEROKU_TEST_RUN_BRANCH"] = run.branch;
  vars["HEROKU_TEST_RUN_COMMIT_VERSION"] = run.commit;
  vars["CI_NODE_TOTAL"] = std::to_string(nodes);
  vars["CI_NODE_INDEX"] = "0";
  fs::path env_dir = scratch.path() / "env";
  TRY(write_env_dir(env_dir, vars));
  run.nodes.clear();
  for (int index = 0; index < nodes; ++index) {
    run.nodes.push_back({.index = index});
  }
  TRY(save_test_run(layout, run));

  // The test build, with the test builds' own cache: a tested branch is not what deploys,
  // and a deploy's build holds the app's cache (build_cache.hpp).
  auto cgroups = SandboxCgroups::create(layout.id(), run.app, fmt::format("test-{}", getpid()),
                                        config.build.memory, config.runtime.processes);
  auto built = compile_app({.build_dir = build_dir,
                            .cache_dir = layout.test_cache_dir(run.app),
                            .env_dir = env_dir,
                            .work_dir = scratch.path() / "work",
                            .buildpacks = test.buildpacks,
                            .buildpacks_from_app = true,
                            .source_version = run.commit,
                            .on_output = std::ref(build_log),
                            .identity = identity,
                            .cgroups = cgroups,
                            .deadline = deadline,
                            .for_tests = true},
                           config);
  if (!built) {
    cgroups->remove();
    return finish("errored", "the test build failed: " + built.error().message);
  }
  auto script = [&](const fs::path& dir, const fs::path& env, const std::string& command,
                    const std::string& work, std::function<void(std::string_view)> output,
                    const std::shared_ptr<SandboxCgroups>& limits) {
    return run_test_script({.build_dir = dir,
                            .env_dir = env,
                            .cache_dir = layout.test_cache_dir(run.app),
                            .work_dir = scratch.path() / work,
                            .buildpacks = built->buildpacks,
                            .command = command,
                            .source_version = run.commit,
                            .on_output = std::move(output),
                            .identity = identity,
                            .cgroups = limits,
                            .deadline = deadline},
                           config);
  };
  if (!test.test_setup.empty()) {
    build_log(step_line("Running test-setup: " + test.test_setup));
    auto setup = script(
        build_dir, env_dir, test.test_setup, "setup",
        [&](std::string_view line) { build_log(detail_line(line)); }, cgroups);
    if (!setup || !setup->ok()) {
      cgroups->remove();
      return finish("errored", setup ? "test-setup " + setup->describe(deadline.limit())
                                     : setup.error().message);
    }
  }
  cgroups->remove();

  // The nodes, each on a copy of the build with its own CI_NODE_INDEX and sandbox.
  run.status = "running";
  run.updated_at = now_seconds();
  TRY(save_test_run(layout, run));
  std::mutex record_mutex;
  std::atomic<int> next = 0;
  int workers = config.ci.workers > 0
                    ? config.ci.workers
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto work = [&] {
    for (int index = next++; index < nodes; index = next++) {
      TestNode& node = run.nodes[static_cast<std::size_t>(index)];
      std::string prefix = nodes > 1 ? fmt::format("node {}: ", index) : "";
      RunLog log(layout.test_run_dir(number) / fmt::format("node-{}.log", index),
                 [&](std::string_view line) {
                   if (on_output) {
                     on_output(prefix + std::string(line));
                   }
                 });
      TapParser tap;
      auto ended = [&]() -> Expected<ExitStatus> {
        fs::path node_dir = scratch.path() / fmt::format("node-{}", index);
        std::error_code made;
        fs::create_directories(node_dir, made);
        TRY(copy_tree(build_dir, node_dir / "app"));
        auto node_vars = vars;
        node_vars["CI_NODE_INDEX"] = std::to_string(index);
        TRY(write_env_dir(node_dir / "env", node_vars));
        auto limits =
            SandboxCgroups::create(layout.id(), run.app, fmt::format("test-{}-{}", getpid(), index),
                                   config.build.memory, config.runtime.processes);
        auto status = script(
            node_dir / "app", node_dir / "env", test.test, fmt::format("node-{}/work", index),
            [&](std::string_view line) {
              tap.line(line);
              log(line);
            },
            limits);
        limits->remove();
        [[maybe_unused]] auto removed = remove_tree(node_dir);
        return status;
      }();
      std::lock_guard lock(record_mutex);
      const TapCounts& counts = tap.counts();
      node.tap = counts.seen();
      node.planned = counts.planned;
      node.passed = counts.passed;
      node.failed = counts.failed;
      node.skipped = counts.skipped;
      if (!ended) {
        node.status = "errored";
        node.message = ended.error().message;
      } else {
        node.exit_code = ended->code;
        node.status = ended->ok() ? "succeeded" : "failed";
        node.message = ended->ok() ? "" : "the tests " + ended->describe(deadline.limit());
      }
      run.updated_at = now_seconds();
      [[maybe_unused]] auto saved = save_test_run(layout, run);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < std::min(workers, nodes); ++i) {
    threads.emplace_back(work);
  }
  for (auto& thread : threads) {
    thread.join();
  }

  TapCounts total;
  bool any_tap = false;
  int failed_nodes = 0;
  int errored_nodes = 0;
  for (const TestNode& node : run.nodes) {
    failed_nodes += node.status == "failed" ? 1 : 0;
    errored_nodes += node.status == "errored" ? 1 : 0;
    any_tap |= node.tap;
    total.passed += node.passed;
    total.failed += node.failed;
    total.skipped += node.skipped;
    if (node.planned) {
      total.planned = total.planned.value_or(0) + *node.planned;
    }
  }
  std::string summary = any_tap ? tap_summary(total) : "";
  if (errored_nodes > 0) {
    return finish("errored", fmt::format("{} of {} node{} errored", errored_nodes, nodes,
                                         nodes == 1 ? "" : "s"));
  }
  if (failed_nodes > 0) {
    std::string why = summary.empty() || total.failed == 0 ? run.nodes[0].message : summary;
    if (nodes > 1) {
      why = fmt::format("{} of {} nodes failed{}", failed_nodes, nodes,
                        summary.empty() ? "" : " (" + summary + ")");
    }
    return finish("failed", why);
  }
  return finish("succeeded", summary.empty() ? "the tests passed" : summary);
}

} // namespace slipway
