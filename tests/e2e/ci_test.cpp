// CI test runs end to end (Heroku CI's contract): passing, failing, erroring and parallel
// runs of pushed fixture apps with their status, TAP counts and output; a run that tries to
// escape leaves nothing behind; and what a run's records and commands show.
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/server.hpp"

namespace slipway::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A server (no daemon: tests build and run apart from the app's processes) with `fixture`
// pushed as app `app`.
struct CiApp {
  Server server{{.start_daemon = false}};
  std::string app;
  CiApp(const std::string& fixture_name, std::string name) : app(std::move(name)) {
    server.create(app, fixture("apps/" + fixture_name));
    auto pushed = server.push(app);
    INFO(pushed.output);
    REQUIRE(pushed.ok());
  }
  ExitStatus run() const { return server.slipway({"ci:run", "-a", app}); }
  json last() const {
    auto shown = server.slipway({"ci:last", "-a", app, "--json"});
    INFO(shown.output);
    REQUIRE(shown.ok());
    return json::parse(shown.output);
  }
};

TEST_CASE("a passing test run streams its tests and records their TAP counts", "[ci]") {
  CiApp ci("ci-pass", "pass");
  auto ran = ci.run();
  INFO(ran.output);
  REQUIRE(ran.ok());
  CHECK(contains(ran.output, "ok 1 - GREETING comes from app.json environments.test.env"));
  CHECK(contains(ran.output, "Test run #1 succeeded: 3 passed"));
  json run = ci.last();
  CHECK(run["status"] == "succeeded");
  CHECK(run["commit"] == ci.server.branch("pass"));
  CHECK(run["branch"] == "main");
  REQUIRE(run["nodes"].size() == 1);
  CHECK(run["nodes"][0]["passed"] == 3);
  CHECK(run["nodes"][0]["exit_code"] == 0);
  CHECK(contains(ci.server.slipway({"ci:output", "1", "--node", "0"}).output, "1..3"));
  CHECK(contains(ci.server.slipway({"ci:output", "1"}).output, "Test run #1: building pass"));
  CHECK(contains(ci.server.slipway({"ci", "-a", "pass"}).output, "#1     succeeded  main"));
  auto events = ci.server.slipway({"events", "-a", "pass"}).output;
  CHECK(contains(events, "Test run #1 of"));
  CHECK(contains(events, "Test run #1 succeeded: 3 passed"));
  // Nothing of the run reaches the app: no release, no config.
  CHECK(ci.server.releases("pass").size() == 1);
}

TEST_CASE("a failing test run is failed with its counts, a broken setup is errored", "[ci]") {
  CiApp ci("ci-fail", "fail");
  auto ran = ci.run();
  INFO(ran.output);
  CHECK_FALSE(ran.ok());
  CHECK(contains(ran.output, "test run #1 failed: 1 of 4 failed, 1 skipped"));
  json run = ci.last();
  CHECK(run["status"] == "failed");
  CHECK(run["nodes"][0]["failed"] == 1);
  CHECK(run["nodes"][0]["skipped"] == 1);
  CHECK(run["nodes"][0]["passed"] == 2);
  CHECK(run["nodes"][0]["exit_code"] == 1);

  ci.server.create("error", fixture("apps/ci-error"));
  REQUIRE(ci.server.push("error").ok());
  auto errored = ci.server.slipway({"ci:run", "-a", "error"});
  INFO(errored.output);
  CHECK_FALSE(errored.ok());
  CHECK(contains(errored.output, "the test database is not there; giving up"));
  CHECK(contains(errored.output, "test run #2 errored: test-setup exited with status 3"));
  CHECK(json::parse(ci.server.slipway({"ci:info", "2", "--json"}).output)["status"] == "errored");
  // Run again: a new run of the same commit.
  auto again = ci.server.slipway({"ci:rerun", "2"});
  CHECK(contains(again.output, "Test run #3: #2 again"));
  CHECK(json::parse(ci.server.slipway({"ci:info", "3", "--json"}).output)["status"] == "errored");
}

TEST_CASE("parallel nodes split the tests by CI_NODE_INDEX and all must pass", "[ci]") {
  CiApp ci("ci-parallel", "par");
  auto ran = ci.run();
  INFO(ran.output);
  REQUIRE(ran.ok());
  CHECK(contains(ran.output, "node 0: ci-parallel: CI_NODE_INDEX=0 CI_NODE_TOTAL=2"));
  CHECK(contains(ran.output, "node 1: ci-parallel: CI_NODE_INDEX=1 CI_NODE_TOTAL=2"));
  CHECK(contains(ran.output, "Test run #1 succeeded: 4 passed"));
  json run = ci.last();
  REQUIRE(run["nodes"].size() == 2);
  CHECK(run["nodes"][0]["passed"] == 2);
  CHECK(run["nodes"][1]["passed"] == 2);
  CHECK(contains(ci.server.slipway({"ci:output", "1", "--node", "1"}).output, "CI_NODE_INDEX=1"));
  CHECK(contains(ci.server.slipway({"ci:output", "1", "--node", "2"}).output,
                 "test run #1 has 2 nodes: --node 0..1"));
}

TEST_CASE("a test that writes outside its directory and leaves a process leaves nothing",
          "[ci][isolation]") {
  CiApp ci("ci-escape", "escape");
  for (const char* marker :
       {"/tmp/ci-escape-marker", "/var/tmp/ci-escape-marker", "/dev/shm/ci-escape-marker"}) {
    fs::remove(marker);
  }
  auto ran = ci.run();
  INFO(ran.output);
  REQUIRE(ran.ok());
  for (const char* marker :
       {"/tmp/ci-escape-marker", "/var/tmp/ci-escape-marker", "/dev/shm/ci-escape-marker"}) {
    INFO(marker);
    CHECK_FALSE(fs::exists(marker));
  }
  CHECK_FALSE(fs::exists(ci.server.app_dir("escape") / "ci-escape-marker"));
  CHECK_FALSE(fs::exists(ci.server.app_dir("escape") / "tmp/ci-escape-marker"));
  // Its directory is gone, and so is the process it left (uids repeat across test roots:
  // the command line tells it apart).
  for (const auto& entry : fs::directory_iterator(ci.server.root / "ci/1")) {
    CHECK(entry.path().extension() == ".log");
  }
  auto uid = read_text(ci.server.app_dir("escape") / "uid");
  auto left = run_program({"pgrep", "-u", uid.substr(0, uid.find('\n')), "-f", "sleep 1000"});
  CHECK(left.output.empty());
}

// Waits until the app's newest test run has ended, and returns it.
json finished_run(const Server& server, const std::string& app) {
  for (int i = 0; i < 600; ++i) {
    auto shown = server.slipway({"ci:last", "-a", app, "--json"});
    if (shown.ok()) {
      json run = json::parse(shown.output);
      if (run["finished_at"].is_string()) {
        return run;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("the test run never ended");
  return {};
}

TEST_CASE("with wait_for_ci a red push is refused and changes nothing, a green one deploys",
          "[ci]") {
  Server server{{.start_daemon = false}};
  server.create("red", fixture("apps/ci-fail"));
  REQUIRE(server.slipway({"apps:set", "-a", "red", "wait_for_ci=true"}).ok());
  auto refused = server.push("red");
  INFO(refused.output);
  CHECK_FALSE(refused.ok());
  CHECK(contains(refused.output, "wait_for_ci: running the tests of"));
  CHECK(contains(refused.output, "not ok 2"));
  CHECK(contains(refused.output, "tests failed: run #1, 1 of 4 failed, 1 skipped"));
  CHECK_FALSE(contains(refused.output, "Compressing slug"));
  CHECK(server.branch("red").empty());
  CHECK(server.releases("red").empty());

  server.create("green", fixture("apps/ci-pass"));
  REQUIRE(server.slipway({"apps:set", "-a", "green", "wait_for_ci=true"}).ok());
  auto deployed = server.push("green");
  INFO(deployed.output);
  REQUIRE(deployed.ok());
  CHECK(contains(deployed.output, "Test run #2 passed (3 passed): deploying"));
  CHECK(contains(deployed.output, "Compressing slug"));
  CHECK(server.releases("green").size() == 1);
  CHECK(json::parse(server.slipway({"ci:info", "2", "--json"}).output)["branch"] == "main");
}

TEST_CASE("a pipeline stage that waits for CI gates the pushes of its apps, and only its apps",
          "[ci][pipelines]") {
  Server server{{.start_daemon = false}};
  server.create("shop-stg", fixture("apps/ci-fail"));
  server.create("shop-dev", fixture("apps/ci-fail"));
  REQUIRE(server.slipway({"pipelines:create", "shop", "-a", "shop-stg", "-s", "staging"}).ok());
  REQUIRE(server.slipway({"pipelines:add", "shop", "-a", "shop-dev", "-s", "development"}).ok());
  auto set = server.slipway({"pipelines:set", "shop", "-s", "staging", "wait_for_ci=true"});
  INFO(set.output);
  REQUIRE(set.ok());
  CHECK(contains(set.output, "shop staging: wait_for_ci=true"));
  CHECK(contains(server.slipway({"pipelines:info", "shop"}).output, "staging waits for CI"));

  auto refused = server.push("shop-stg");
  INFO(refused.output);
  CHECK_FALSE(refused.ok());
  CHECK(contains(refused.output, "tests failed: run #1, 1 of 4 failed, 1 skipped"));
  CHECK(server.branch("shop-stg").empty());
  CHECK(server.releases("shop-stg").empty());

  // The development stage does not wait: its push deploys and queues a run.
  auto deployed = server.push("shop-dev");
  INFO(deployed.output);
  CHECK(deployed.ok());
  CHECK(contains(deployed.output, "queued: slipway ci:info 2"));
  CHECK(server.releases("shop-dev").size() == 1);

  // Turned off, the staging push deploys.
  REQUIRE(server.slipway({"pipelines:set", "shop", "-s", "staging", "wait_for_ci=false"}).ok());
  auto released = server.push("shop-stg");
  INFO(released.output);
  CHECK(released.ok());
  CHECK(server.releases("shop-stg").size() == 1);

  // A malformed setting names the problem and changes nothing.
  auto bad = server.slipway({"pipelines:set", "shop", "-s", "staging", "wait_for_ci=maybe"});
  CHECK_FALSE(bad.ok());
  CHECK(contains(bad.output, "wait_for_ci must be true or false, not 'maybe'"));
  bad = server.slipway({"pipelines:set", "shop", "-s", "qa", "wait_for_ci=true"});
  CHECK_FALSE(bad.ok());
  CHECK(contains(bad.output, "unknown stage 'qa'"));
  bad = server.slipway({"pipelines:set", "shop", "-s", "staging", "colour=red"});
  CHECK_FALSE(bad.ok());
  CHECK(contains(bad.output, "unknown stage setting 'colour'"));
}

TEST_CASE("a push queues a test run, and a promotion of an untested release is refused "
          "until --force",
          "[ci][pipelines]") {
  Server server{{.start_daemon = false}};
  server.create("web-stg", fixture("apps/ci-fail"));
  server.create("web-prod", fixture("apps/ci-fail"));
  REQUIRE(server.slipway({"pipelines:create", "web", "-a", "web-stg", "-s", "staging"}).ok());
  REQUIRE(server.slipway({"pipelines:add", "web", "-a", "web-prod", "-s", "production"}).ok());
  // An app of a pipeline whose commit declares tests: the push queues a run and returns.
  auto pushed = server.push("web-stg");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  CHECK(contains(pushed.output, "Test run #1 of"));
  CHECK(contains(pushed.output, "queued: slipway ci:info 1"));
  json run = finished_run(server, "web-stg");
  CHECK(run["status"] == "failed");

  auto refused = server.slipway({"pipelines:promote", "-a", "web-stg"});
  INFO(refused.output);
  CHECK_FALSE(refused.ok());
  CHECK(contains(refused.output, "has no passing test run (#1 failed); `ci:rerun` or `--force`"));
  CHECK(server.releases("web-prod").empty());

  auto forced = server.slipway({"pipelines:promote", "-a", "web-stg", "--force"});
  INFO(forced.output);
  REQUIRE(forced.ok());
  CHECK(server.releases("web-prod").size() == 1);
  CHECK(contains(server.slipway({"events", "-a", "web-stg"}).output, "started with --force: v1"));
}

TEST_CASE("a pushed app.json cannot make a test build use a directory of the server as its "
          "buildpack",
          "[ci][isolation]") {
  Server server{{.start_daemon = false}};
  server.create("sneaky");
  server.write("sneaky", "app.json",
               R"({"environments": {"test": {"buildpacks": [{"url": "/etc"}],
                   "scripts": {"test": "true"}}}})");
  server.commit("sneaky", "a buildpack from the server's disk");
  REQUIRE(server.push("sneaky").ok());
  auto ran = server.slipway({"ci:run", "-a", "sneaky"});
  INFO(ran.output);
  CHECK_FALSE(ran.ok());
  CHECK(contains(ran.output, "buildpack '/etc' named by the app is a path on this server"));
  auto last = json::parse(server.slipway({"ci:last", "-a", "sneaky", "--json"}).output);
  CHECK(last["status"] == "errored");
}

TEST_CASE("test runs: who may, and malformed requests", "[ci]") {
  CiApp ci("ci-pass", "pass");
  CHECK(contains(ci.server.slipway({"ci:run", "-a", "pass", "no such branch"}).output,
                 "'no such branch' is neither a branch name nor a full commit id"));
  CHECK(contains(ci.server.slipway({"ci:run", "-a", "pass", "nope"}).output,
                 "pass has no branch nope to test"));
  CHECK(contains(ci.server.slipway({"ci:run", "-a", "pass", std::string(40, 'a')}).output,
                 "is not in pass's repository"));
  CHECK(contains(ci.server.slipway({"ci:info", "99"}).output, "test run #99 does not exist"));
  CHECK(contains(ci.server.slipway({"ci"}).output, "name the app (-a APP) or the pipeline"));
}

} // namespace
} // namespace slipway::test
