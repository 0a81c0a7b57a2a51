// CI test runs (Heroku CI's): a commit of an app built as for production but for its tests,
// then tested on one or more nodes. ROOT/ci/N.toml is run N's record (numbered server-wide,
// so a number names one run whatever its app or pipeline), ROOT/ci/N/ its logs (build.log,
// node-I.log). The record is rewritten, atomically, as the run moves on; whoever runs it
// holds N.lock meanwhile, so a record left unfinished with its lock free was interrupted
// (its runner was killed) and the next reader settles it as errored.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/file_lock.hpp"
#include "common/time.hpp"
#include "runtime/layout.hpp"

namespace slipway {

// A node's (or the whole run's) state, Heroku's words: pending, building, running, then
// succeeded (tests passed), failed (tests ran and failed) or errored (it broke before the
// tests ran: the build, test-setup, the runner itself).
bool is_finished_status(std::string_view status);

struct TestNode {
  int index = 0; // CI_NODE_INDEX
  std::string status = "pending";
  std::optional<int> exit_code;
  std::string message; // why it failed or errored
  // From the TAP it printed, when it printed any.
  std::optional<int> planned;
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  bool tap = false;
};

struct TestRun {
  int number = 0;
  std::string id; // a UUID
  std::string app;
  std::string app_id;
  std::string pipeline_id; // the app's pipeline when the run was made, if any
  std::string commit;
  std::string branch;
  std::string actor;
  std::string status = "pending";
  std::string message; // the one-line result: "3 of 40 failed", "test-setup exited with status 3"
  bool gates = false;  // a push (or promotion) waits on it
  TimePoint created_at{};
  TimePoint updated_at{};
  std::optional<TimePoint> finished_at;
  bool started = false; // a runner claimed it
  std::vector<TestNode> nodes;
};

// Numbers the run (one more than the newest) and writes its record.
Expected<TestRun> create_test_run(const Layout& layout, TestRun run);

// Rewrites the record (atomically).
Expected<void> save_test_run(const Layout& layout, const TestRun& run);

// Run `number`, settling it first when it was interrupted.
Expected<TestRun> load_test_run(const Layout& layout, int number);

// The newest runs first, of `app` (empty: any) or pipeline `pipeline_id` (empty: any), at
// most `limit` (0: all).
std::vector<TestRun> list_test_runs(const Layout& layout, const std::string& app,
                                    const std::string& pipeline_id, std::size_t limit);

// The lock the runner of run `number` holds while it runs.
Expected<FileLock> claim_test_run(const Layout& layout, int number);

std::string test_run_to_toml(const TestRun& run);
Expected<TestRun> test_run_from_toml(std::string_view text, std::string_view origin);

} // namespace slipway
