// The daemon with a real nginx in front: pushes go live only when healthy, traffic switches
// without a failed request, processes are scaled, restarted and brought back after crashes.
#include <atomic>
#include <csignal>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/file_lock.hpp"
#include "runtime/apps.hpp"
#include "runtime/daemon_client.hpp"
#include "runtime/events.hpp"
#include "runtime/repo.hpp"
#include "tests/e2e/daemon_harness.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

using daemon_e2e::Load;
using daemon_e2e::Server;

TEST_CASE("a pushed app answers through nginx at its host name, and only there", "[daemon]") {
  Server server;
  auto pushed = server.push("v-one");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  CHECK(contains(pushed.output, "health check passed"));
  auto response = server.get();
  CHECK(response.status == 200);
  CHECK(response.body == "v-one web.1\n");
  CHECK(server.get("/", "other.localhost").status == 404);
  // A domain of its own, then not.
  REQUIRE(server.slipway({"domains:add", "-a", "demo", "www.example.com"}).ok());
  CHECK(server.get("/", "www.example.com").body == "v-one web.1\n");
  CHECK(contains(server.slipway({"domains", "-a", "demo"}).output, "www.example.com"));
  REQUIRE(server.slipway({"domains:remove", "-a", "demo", "www.example.com"}).ok());
  CHECK(server.get("/", "www.example.com").status == 404);
  auto bad = server.slipway({"domains:add", "-a", "demo", "Bad_Host"});
  CHECK(bad.code == 2);
  CHECK(contains(bad.output, "invalid domain 'Bad_Host'"));
}

TEST_CASE("ten deploys in a row under constant load drop no request", "[daemon][serial]") {
  Server server;
  REQUIRE(server.push("release-0").ok());
  REQUIRE(server.serves("release-0"));
  Load load(server);
  for (int i = 1; i <= 10; ++i) {
    auto pushed = server.push(fmt::format("release-{}", i));
    INFO(pushed.output);
    REQUIRE(pushed.ok());
    // The push returns once the new release serves.
    CHECK(server.get().body.starts_with(fmt::format("release-{} ", i)));
  }
  std::this_thread::sleep_for(300ms);
  load.finish();
  WARN(fmt::format("zero-downtime: {} requests across 10 deploys, {} failed", load.requests(),
                   load.failures()));
  INFO(load.problems());
  CHECK(load.failures() == 0);
  CHECK(load.requests() > 100);
  for (int i = 0; i <= 10; ++i) {
    CHECK(load.bodies().contains(fmt::format("release-{} web.1", i)));
  }
}

TEST_CASE("an unhealthy release is rejected and the old one keeps serving", "[daemon][serial]") {
  Server server;
  REQUIRE(server.push("good").ok());
  REQUIRE(server.serves("good"));

  SECTION("its web process never binds PORT") {
    write_file(server.work / "Procfile", "web: sleep 600\n");
    auto pushed = server.push("never-binds");
    INFO(pushed.output);
    CHECK_FALSE(pushed.ok());
    CHECK(contains(pushed.output, "web.1 did not pass its health check on port"));
    CHECK(contains(pushed.output, "within 4s (nothing listened on it); v1 is still live"));
  }
  SECTION("its web process exits at once") {
    write_file(server.work / "Procfile", "web: echo bye; exit 3\n");
    auto pushed = server.push("exits");
    INFO(pushed.output);
    CHECK_FALSE(pushed.ok());
    CHECK(contains(pushed.output, "web.1 exited with status 3 before it answered"));
  }
  SECTION("its declared health check answers 500") {
    write_file(server.work / "unhealthy", "");
    write_file(server.work / "app.json",
               R"({"healthchecks": {"web": [{"type": "startup", "path": "/health"}]}})");
    auto pushed = server.push("unhealthy");
    INFO(pushed.output);
    CHECK_FALSE(pushed.ok());
    CHECK(contains(pushed.output, "(it answered 500 on /health); v1 is still live"));
  }
  SECTION("its declared check fails after its attempts, not after health_timeout") {
    write_file(server.work / "unhealthy", "");
    write_file(server.work / "app.json", R"({"healthchecks": {"web": [
      {"type": "startup", "path": "/health", "attempts": 2, "wait": 1}]}})");
    auto started = std::chrono::steady_clock::now();
    auto pushed = server.push("unhealthy-twice");
    INFO(pushed.output);
    CHECK_FALSE(pushed.ok());
    CHECK(contains(pushed.output, "failed its health check on port"));
    CHECK(contains(pushed.output, "2 times (it answered 500 on /health); v1 is still live"));
    CHECK(std::chrono::steady_clock::now() - started < 4s); // health_timeout is 4 s
  }
  SECTION("its check asks for more uptime than health_timeout allows") {
    write_file(server.work / "app.json", R"({"healthchecks": {"web": [{"uptime": 60}]}})");
    auto pushed = server.push("slow-to-trust");
    INFO(pushed.output);
    CHECK_FALSE(pushed.ok());
    CHECK(contains(pushed.output, "web.1 must stay up 1m before it passes, longer than "
                                  "[runtime] health_timeout (4s)"));
  }
  CHECK(server.get().body == "good web.1\n");
  auto releases = server.releases();
  REQUIRE(releases.size() == 2); // newest first
  CHECK(releases[0]["status"] == "failed");
  CHECK(contains(releases[0]["reason"].get<std::string>(), "web.1"));
  CHECK(releases[1]["live"] == true);
  auto ps = server.ps();
  REQUIRE(ps.size() == 1);
  CHECK(ps[0]["release"] == 1);
}

TEST_CASE("scaling, rolling restarts and crashed processes", "[daemon]") {
  Server server;
  auto pushed = server.push("scaled");
  INFO(pushed.output << server.daemon.log());
  REQUIRE(pushed.ok());
  REQUIRE(server.serves("scaled"));

  REQUIRE(server.slipway({"ps:scale", "-a", "demo", "web=2"}).ok());
  std::set<std::string> dynos;
  for (int i = 0; i < 200 && dynos.size() < 2; ++i) {
    dynos.insert(server.get().body);
    std::this_thread::sleep_for(20ms);
  }
  CHECK(dynos == std::set<std::string>{"scaled web.1\n", "scaled web.2\n"});
  CHECK(server.slipway({"ps:scale", "-a", "demo", "worker=1"}).code == 1);
  CHECK(server.slipway({"ps:scale", "-a", "demo", "web=-1"}).code == 2);

  std::set<int> before;
  for (const auto& process : server.ps()) {
    before.insert(process["pid"].get<int>());
  }
  {
    Load load(server);
    auto restarted = server.slipway({"ps:restart", "-a", "demo"});
    INFO(restarted.output);
    CHECK(restarted.ok());
    load.finish();
    INFO(load.problems());
    CHECK(load.failures() == 0);
  }
  json after = server.ps();
  for (const auto& process : after) {
    if (process["state"] == "up") {
      CHECK_FALSE(before.contains(process["pid"].get<int>()));
    }
  }

  // SIGKILL: back within seconds, with a new pid.
  int victim = after[0]["pid"];
  ::kill(victim, SIGKILL);
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    std::this_thread::sleep_for(100ms);
    for (const auto& process : server.ps()) {
      back = back || (process["name"] == after[0]["name"] && process["state"] == "up" &&
                      process["pid"] != victim);
    }
  }
  CHECK(back);

  REQUIRE(server.slipway({"ps:scale", "-a", "demo", "web=0"}).ok());
  auto none = server.get();
  CHECK(none.status == 503);
  CHECK(contains(none.body, "demo has no web processes running"));
}

TEST_CASE("the daemon follows app.toml when an event says it changed, without being asked to "
          "sync",
          "[daemon]") {
  Server server;
  REQUIRE(server.push("followed").ok());
  REQUIRE(server.serves("followed"));
  Layout layout(server.root);
  auto config = layout.config();
  REQUIRE(config);
  // What `ps:scale` and `domains:add` leave when killed after saving app.toml and recording
  // the change, before they ask the daemon to sync.
  {
    auto lock = FileLock::acquire(layout.lock_file("demo"), FileLock::Mode::exclusive);
    REQUIRE(lock);
    auto info = app_info(layout, "demo");
    REQUIRE(info);
    info->formation["web"] = 2;
    info->domains.push_back("followed.example.com");
    REQUIRE(save_app_info(layout, *info));
    REQUIRE(record_event(layout, *config,
                         {.app = "demo",
                          .resource = "formation",
                          .action = "changed",
                          .actor = "test",
                          .data = {{"formation", {{"web", 2}}}, {"message", "Scaled to web@2"}}}));
    REQUIRE(record_event(layout, *config,
                         {.app = "demo",
                          .resource = "domain",
                          .action = "added",
                          .actor = "test",
                          .data = {{"hostname", "followed.example.com"},
                                   {"message", "Added followed.example.com"}}}));
  }
  std::set<std::string> bodies;
  for (int i = 0; i < 400 && bodies.size() < 2; ++i) {
    auto answer = server.get("/", "followed.example.com");
    if (answer.status == 200) {
      bodies.insert(answer.body);
    }
    std::this_thread::sleep_for(50ms);
  }
  INFO(server.daemon.log());
  CHECK(bodies == std::set<std::string>{"followed web.1\n", "followed web.2\n"});
  auto cursor = read_event_cursor(layout, "reconciler");
  REQUIRE(cursor);
  REQUIRE(*cursor);
  CHECK(**cursor >= 2);

  // Destroyed, and the daemon never told.
  REQUIRE(destroy_app(layout, *config, "demo"));
  REQUIRE(record_event(layout, *config,
                       {.resource = "app",
                        .action = "destroyed",
                        .actor = "test",
                        .data = {{"app", "demo"}, {"message", "App destroyed"}}}));
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = server.get().status == 404;
    std::this_thread::sleep_for(50ms);
  }
  CHECK(gone);
  CHECK(contains(server.get().body, "no app is served at this host name"));
}

TEST_CASE("a daemon killed with SIGKILL brings every app back on its live release", "[daemon]") {
  Server server;
  REQUIRE(server.push("first").ok());
  REQUIRE(server.push("second").ok());
  REQUIRE(server.serves("second"));
  server.daemon.kill();
  // The router goes with it (nginx is told by the kernel when its parent dies).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = server.get().status == 0;
    std::this_thread::sleep_for(50ms);
  }
  CHECK(gone);
  server.daemon.start();
  CHECK(server.serves("second"));
  auto releases = server.releases();
  REQUIRE(releases.size() == 2); // newest first
  CHECK(releases[0]["live"] == true);
  CHECK(releases[0]["status"] == "succeeded");
  CHECK(server.daemon.stop() == 0);
}

TEST_CASE("logs show the app's lines and release events, and run returns the status", "[daemon]") {
  Server server;
  REQUIRE(server.push("logged").ok());
  REQUIRE(server.serves("logged"));
  REQUIRE(server.slipway({"config:set", "-a", "demo", "GREETING=hi there"}).ok());
  REQUIRE(server.serves("logged"));
  auto logs = server.slipway({"logs", "-a", "demo", "-n", "50"});
  INFO(logs.output);
  CHECK(contains(logs.output, "app[web.1]: listening on "));
  CHECK(contains(logs.output, "app[web.1]: GET /"));
  CHECK(contains(logs.output, "slipway[api]: Release v1 created by root: Deploy "));
  CHECK(
      contains(logs.output, "slipway[api]: Release v2 created by root: Set GREETING config vars"));
  CHECK(contains(logs.output, "slipway[router]: Routing demo.localhost to v2"));
  CHECK(contains(logs.output, "slipway[web.1]: State changed from starting to up"));

  auto env = server.slipway({"run", "-a", "demo", "--", "env"});
  INFO(env.output);
  CHECK(env.ok());
  CHECK(contains(env.output, "GREETING=hi there"));
  CHECK(contains(env.output, "SLIPWAY_RELEASE=v2"));
  auto exited = server.slipway({"run", "-a", "demo", "--", "sh", "-c", "echo out; exit 7"});
  CHECK(exited.code == 7);
  CHECK(contains(exited.output, "out"));
  // A one-off's writes vanish with it, as a dyno's do.
  REQUIRE(server.slipway({"run", "-a", "demo", "--", "touch /app/scribble"}).ok());
  CHECK(server.slipway({"run", "-a", "demo", "--", "test -e /app/scribble"}).code == 1);
}

TEST_CASE("the daemon refuses malformed requests", "[daemon]") {
  Server server;
  Layout layout(server.root);
  CHECK(contains(server.slipway({"ps", "-a", "demo"}).output, "no processes running"));
  struct Case {
    json request;
    std::string message;
  };
  for (const auto& [request, message] : std::vector<Case>{
           {{{"command", "launch-missiles"}, {"app", "demo"}}, "unknown command 'launch-missiles'"},
           {{{"command", "ps"}}, "malformed request: 'ps' needs a valid \"app\""},
           {{{"command", "activate"}, {"app", "../etc"}, {"version", 1}},
            "malformed request: 'activate' needs a valid \"app\""},
           {{{"command", "activate"}, {"app", "demo"}},
            "malformed request: 'activate' needs a \"version\""},
           {{{"command", "activate"}, {"app", "demo"}, {"version", "1"}},
            "malformed request: 'activate': \"version\" must be an integer"},
           {{{"command", "activate"}, {"app", "demo"}, {"version", 1}, {"deadline_ms", "soon"}},
            "malformed request: 'activate': \"deadline_ms\" must be an integer"},
           {{{"command", "restart"}, {"app", "demo"}, {"type", 7}},
            "malformed request: 'restart': \"type\" must be a string"},
           {{{"command", "sync"}, {"app", "demo"}, {"verison", 2}},
            "malformed request: 'sync': unknown field \"verison\""},
           {json::array({1, 2}), "malformed request: expected {\"command\": ...}"},
           {{{"command", "activate"}, {"app", "demo"}, {"version", 99}}, "v99"},
       }) {
    INFO(request.dump());
    auto answer = call_daemon_json(layout, request);
    REQUIRE_FALSE(answer);
    CHECK(contains(answer.error().message, message));
  }
  // The typed calls speak the same wire format.
  auto status = daemon_status(layout);
  REQUIRE(status);
  REQUIRE(*status);
  CHECK((*status)->apps >= 1);
  auto processes = daemon_processes(layout, "demo");
  REQUIRE(processes);
  CHECK(processes->empty());
  auto synced = sync_daemon(layout, "demo");
  REQUIRE(synced);
  CHECK(*synced);
}
