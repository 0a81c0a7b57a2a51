#include <catch2/catch.hpp>

#include "common/random.hpp"
#include "runtime/test_runs.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using test::TempDir;
using test::write_file;

namespace {

TestRun some_run() {
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  TestRun run{.id = random_uuid().value(),
              .app = "shop",
              .app_id = random_uuid().value(),
              .commit = std::string(40, 'c'),
              .branch = "main",
              .actor = "alice",
              .created_at = now,
              .updated_at = now};
  run.nodes.push_back({.index = 0});
  run.nodes.push_back({.index = 1,
                       .status = "failed",
                       .exit_code = 1,
                       .message = "the tests exited with status 1",
                       .planned = 4,
                       .passed = 2,
                       .failed = 1,
                       .skipped = 1,
                       .tap = true});
  return run;
}

} // namespace

TEST_CASE("a test run's record round-trips through TOML", "[test_runs]") {
  TestRun run = some_run();
  run.number = 7;
  run.finished_at = run.created_at;
  auto parsed = test_run_from_toml(test_run_to_toml(run), "7.toml");
  REQUIRE(parsed);
  CHECK(test_run_to_toml(*parsed) == test_run_to_toml(run));
  CHECK(parsed->nodes[1].planned == 4);
  CHECK(parsed->nodes[1].exit_code == 1);
  CHECK_FALSE(parsed->nodes[0].exit_code);
}

TEST_CASE("a damaged test run record is an error naming the file and what is wrong",
          "[test_runs]") {
  TestRun run = some_run();
  run.number = 3;
  std::string text = test_run_to_toml(run);
  for (auto [from, to, says] :
       std::initializer_list<std::tuple<std::string, std::string, std::string>>{
           {"status = 'pending'", "status = 'maybe'", "a known status"},
           {"app = 'shop'", "app = '../etc'", "an app name"},
           {"number = 3", "number = -3", "'number' must be a whole number"},
           {"gates = false", "gates = 'no'", "'gates' must be true or false"},
           {"status = 'failed'", "status = 'exploded'", "node 1 has an unknown status"}}) {
    INFO(to);
    std::string damaged = text;
    REQUIRE(damaged.find(from) != std::string::npos);
    damaged.replace(damaged.find(from), from.size(), to);
    auto parsed = test_run_from_toml(damaged, "ci/3.toml");
    REQUIRE_FALSE(parsed);
    CHECK(contains(parsed.error().message, "ci/3.toml"));
    CHECK(contains(parsed.error().message, says));
  }
  CHECK_FALSE(test_run_from_toml("number = [", "ci/3.toml"));
}

TEST_CASE("runs are numbered server-wide and listed newest first by app", "[test_runs]") {
  TempDir dir;
  Layout layout(dir.path());
  auto first = create_test_run(layout, some_run());
  TestRun other = some_run();
  other.app = "blog";
  auto second = create_test_run(layout, other);
  auto third = create_test_run(layout, some_run());
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(third);
  CHECK(first->number == 1);
  CHECK(second->number == 2);
  CHECK(third->number == 3);
  auto shop = list_test_runs(layout, "shop", "", 0);
  REQUIRE(shop.size() == 2);
  CHECK(shop[0].number == 3);
  CHECK(shop[1].number == 1);
  CHECK(list_test_runs(layout, "", "", 1).front().number == 3);
  auto missing = load_test_run(layout, 99);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::not_found);
}

TEST_CASE("a run left unfinished by its runner is settled as errored, a running one is not",
          "[test_runs]") {
  TempDir dir;
  Layout layout(dir.path());
  TestRun run = some_run();
  run.started = true;
  run.status = "running";
  run = create_test_run(layout, run).value();
  {
    auto claim = claim_test_run(layout, run.number);
    REQUIRE(claim);
    CHECK(load_test_run(layout, run.number).value().status == "running");
  }
  auto settled = load_test_run(layout, run.number);
  REQUIRE(settled);
  CHECK(settled->status == "errored");
  CHECK(settled->message == "the run was interrupted (its runner ended)");
  CHECK(settled->nodes[0].status == "errored");
  CHECK(settled->nodes[1].status == "failed"); // it had ended
  // A queued one stays pending while its runner may be starting.
  auto queued = create_test_run(layout, some_run()).value();
  CHECK(load_test_run(layout, queued.number).value().status == "pending");
}
