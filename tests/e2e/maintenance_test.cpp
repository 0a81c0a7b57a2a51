// Maintenance mode through the real nginx and daemon: every request for the app's hosts
// answers 503 with the maintenance page while its processes run on, across a daemon
// restart and a deploy, until it is turned off; and only those who may use the app can
// turn it on or off.
#include <thread>

#include <catch2/catch.hpp>

#include "common/file_lock.hpp"
#include "common/subprocess.hpp"
#include "runtime/apps.hpp"
#include "runtime/events.hpp"
#include "tests/support/server.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Waits until a request for `host` answers with `status`.
bool host_answers(const Server& server, const std::string& host, int status) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (http_request(server.http_port, host).status == status) {
      return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

} // namespace

TEST_CASE("maintenance mode answers 503 for every host of the app, keeps its processes, and "
          "survives a daemon restart and a deploy",
          "[maintenance]") {
  Server server;
  server.create("demo");
  server.create("other");
  REQUIRE(server.push("demo").ok());
  REQUIRE(server.push("other").ok());
  REQUIRE(server.slipway({"domains:add", "-a", "demo", "www.example.com"}).ok());
  REQUIRE(server.host_serves("www.example.com", "hello from demo"));
  CHECK(server.slipway({"maintenance", "-a", "demo"}).output == "off\n");

  auto on = server.slipway({"maintenance:on", "-a", "demo"});
  REQUIRE(on.ok());
  CHECK(contains(on.output, "Enabling maintenance mode for demo... done"));
  CHECK(server.slipway({"maintenance", "-a", "demo"}).output == "on\n");
  CHECK(contains(read_text(server.app_dir("demo") / "app.toml"), "maintenance = true"));
  // At once, for every host and path of the app; not for another app.
  for (const char* host : {"demo.localhost", "www.example.com", "WWW.EXAMPLE.COM"}) {
    for (const char* path : {"/", "/index.html", "/no/such/page"}) {
      INFO(host << path);
      auto response = http_request(server.http_port, host, path);
      CHECK(response.status == 503);
      CHECK(contains(response.body, "<h1>Down for maintenance</h1>"));
    }
  }
  CHECK(server.serves("other", "hello from other"));
  // Its processes run on.
  auto ps = server.slipway({"ps", "-a", "demo"});
  CHECK(contains(ps.output, "web.1"));
  CHECK(contains(ps.output, " up "));
  // Again: nothing changes, and no event is recorded.
  auto again = server.slipway({"maintenance:on", "-a", "demo"});
  CHECK(again.ok());
  CHECK(contains(again.output, "(it was already on)"));
  auto events = server.slipway({"events", "-a", "demo"}).output;
  CHECK(contains(events, "maintenance.enabled"));
  CHECK(events.find("maintenance.enabled") == events.rfind("maintenance.enabled"));
  CHECK(contains(server.slipway({"logs", "-a", "demo"}).output,
                 "slipway[api]: Maintenance mode on by "));

  // A restarted daemon keeps it.
  server.daemon.stop();
  server.daemon.start();
  CHECK(host_answers(server, "demo.localhost", 503));
  CHECK(contains(http_request(server.http_port, "demo.localhost").body, "Down for maintenance"));
  CHECK(server.serves("other", "hello from other"));

  // A deploy behind it goes live, and is seen once maintenance mode is off.
  server.write("demo", "www/index.html", "second version\n");
  server.commit("demo", "second");
  auto pushed = server.push("demo");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  CHECK(http_request(server.http_port, "demo.localhost").status == 503);

  auto off = server.slipway({"maintenance:off", "-a", "demo"});
  REQUIRE(off.ok());
  CHECK(contains(off.output, "Disabling maintenance mode for demo... done"));
  CHECK(server.serves("demo", "second version"));
  CHECK(server.host_serves("www.example.com", "second version"));
  CHECK(server.slipway({"maintenance", "-a", "demo"}).output == "off\n");
  CHECK_FALSE(contains(read_text(server.app_dir("demo") / "app.toml"), "maintenance"));
  CHECK(contains(server.slipway({"logs", "-a", "demo"}).output,
                 "slipway[api]: Maintenance mode off by "));
}

TEST_CASE("a collaborator turns maintenance mode on and off for its apps only",
          "[maintenance][isolation]") {
  Server server({.config = "[runtime]\nhealth_timeout = \"10s\"\nstop_grace = \"3s\"\n"
                           "[ssh]\nauthorized_keys = \"@DIR@/authorized_keys\"\n"});
  server.create("demo");
  server.create("other");
  REQUIRE(server.push("other").ok());
  REQUIRE(server.serves("other", "hello from other"));
  fs::path key = server.dir / "alice";
  REQUIRE(run_program(
              {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", key.string()})
              .ok());
  auto added =
      run({.argv = {slipway_binary().string(), "--root", server.root.string(), "keys:add", "alice"},
           .stdin_data = read_text(key.string() + ".pub")});
  REQUIRE(added);
  INFO(added->output);
  REQUIRE(added->ok());
  REQUIRE(server.slipway({"access:add", "-a", "demo", "alice"}).ok());
  auto as_alice = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--root", server.root.string()});
    return run_slipway(args, {{"SLIPWAY_USER", "alice"}});
  };

  std::string record = read_text(server.app_dir("other") / "app.toml");
  for (const char* command : {"maintenance:on", "maintenance:off", "maintenance"}) {
    INFO(command);
    auto refused = as_alice({command, "-a", "other"});
    CHECK_FALSE(refused.ok());
    CHECK(contains(refused.output, "key 'alice' has no access to app 'other'"));
    // Nor may it learn whether an app exists.
    CHECK(contains(as_alice({command, "-a", "nope"}).output,
                   "key 'alice' has no access to app 'nope'"));
  }
  CHECK(read_text(server.app_dir("other") / "app.toml") == record);
  CHECK_FALSE(contains(server.slipway({"events", "-a", "other"}).output, "maintenance"));
  CHECK(server.serves("other", "hello from other"));

  CHECK(as_alice({"maintenance:on", "-a", "demo"}).ok());
  CHECK(as_alice({"maintenance", "-a", "demo"}).output == "on\n");
  CHECK(contains(server.slipway({"events", "-a", "demo"}).output, "maintenance.enabled (alice)"));
  CHECK(as_alice({"maintenance:off", "-a", "demo"}).ok());
}

TEST_CASE("a maintenance change the daemon was never told of reaches it through the event "
          "stream",
          "[maintenance]") {
  Server server;
  server.create("demo");
  REQUIRE(server.push("demo").ok());
  REQUIRE(server.serves("demo", "hello from demo"));
  Layout layout(server.root);
  auto config = layout.config();
  REQUIRE(config);
  // What maintenance:on leaves when killed after saving app.toml and recording the change,
  // before it asks the daemon to sync.
  auto record = [&](bool on) {
    auto lock = FileLock::acquire(layout.lock_file("demo"), FileLock::Mode::exclusive);
    REQUIRE(lock);
    auto info = app_info(layout, "demo");
    REQUIRE(info);
    info->maintenance = on;
    REQUIRE(save_app_info(layout, *info));
    REQUIRE(record_event(layout, *config,
                         {.app = "demo",
                          .resource = "maintenance",
                          .action = on ? "enabled" : "disabled",
                          .actor = "test",
                          .data = {{"maintenance", on}}}));
  };
  record(true);
  INFO(server.daemon.log());
  CHECK(host_answers(server, "demo.localhost", 503));
  record(false);
  CHECK(server.serves("demo", "hello from demo"));
}
