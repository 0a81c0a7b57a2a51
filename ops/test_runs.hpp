// CI test runs (runtime/test_runs.hpp, run by runtime/test_runner.hpp): starting one for a
// branch or commit of an app, running it here or in a process of its own, and reading them.
// Who may: anyone with access to the app (rights.cpp: ci, ci:info, ci:run, ci:rerun,
// ci:output); a run is seen by those who may use its app.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "ops/context.hpp"
#include "runtime/test_runs.hpp"

namespace slipway::ops {

struct StartTestRun {
  std::string app;
  // A branch of the app's repository or a full commit id; empty: its deploy branch.
  std::string ref;
  bool gates = false; // a push or promotion waits on it
  // A push's commit and branch, known to the hook before they are in the repository
  // (then `ref` is not looked up).
  std::string commit;
  std::string branch;
};
// Records a pending run of the commit (event test-run created).
Expected<TestRun> create_test_run(const Context& context, const StartTestRun& request);

// Runs pending run `number` here, its output to `on_output`.
Expected<TestRun> run_test_run(const Context& context, int number,
                               const std::function<void(std::string_view)>& on_output);

// Runs pending run `number` in a process of its own, detached, as the same actor.
Expected<void> spawn_test_run(const Context& context, int number);

// Runs of `app`, or (app empty) of pipeline `pipeline` (a name or id), newest first.
Expected<std::vector<TestRun>> list_test_runs(const Context& context, const std::string& app,
                                              const std::string& pipeline, std::size_t limit);

Expected<TestRun> test_run(const Context& context, int number);

// Node `node`'s output of run `number` (the build's when `node` is empty).
Expected<std::string> test_run_output(const Context& context, int number, std::optional<int> node);

// A new run of the same app, branch and commit as run `number`.
Expected<TestRun> rerun_test_run(const Context& context, int number);

} // namespace slipway::ops
