// Why a launch fails, told to the pusher, and liveness checks that restart a process the
// daemon finds unhealthy.
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/daemon_harness.hpp"

using namespace slipway;
using namespace slipway::test;
using daemon_e2e::Server;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("a failed launch shows the pusher what the process printed and the port it was given",
          "[daemon]") {
  Server server;
  REQUIRE(server.push("good").ok());
  REQUIRE(server.serves("good"));
  // Two web processes: the first has exited, and given its port back, before its health
  // check is judged (the second is started in between).
  REQUIRE(server.slipway({"ps:scale", "-a", "demo", "web=2"}).ok());
  std::string ended;
  SECTION("its web process prints and exits") {
    write_file(server.work / "Procfile",
               "web: seq 1 30 | sed 's/^/line /'; echo \"out: my port is $PORT\"; "
               "echo 'err: no database' >&2; printf 'bell \\a!\\n'; exit 3\n");
    ended = "exited with status 3 before it answered on port ";
  }
  SECTION("its web process listens on another port") {
    write_file(server.work / "Procfile",
               "web: seq 1 30 | sed 's/^/line /'; echo \"out: my port is $PORT\"; "
               "echo 'err: no database' >&2; printf 'bell \\a!\\n'; "
               "exec python3 -m http.server --bind 127.0.0.1 0 >/dev/null 2>&1\n");
    ended = "did not pass its health check on port ";
  }
  auto pushed = server.push("broken");
  INFO(pushed.output);
  CHECK_FALSE(pushed.ok());
  // Its last 20 lines, stdout and stderr, as details before the failure.
  CHECK(contains(pushed.output, "remote:        web.1 printed 33 lines; the last 20:"));
  CHECK_FALSE(contains(pushed.output, "app[web.1]: line 13"));
  CHECK(contains(pushed.output, "remote:        app[web.1]: line 14"));
  CHECK(contains(pushed.output, "remote:        app[web.1]: err: no database"));
  CHECK(contains(pushed.output, "remote:        app[web.1]: bell \\x07!"));
  CHECK_FALSE(contains(pushed.output, "app[web.2]"));
  // The port in the message is the one the process was given.
  std::string marker = "app[web.1]: out: my port is ";
  auto at = pushed.output.find(marker);
  REQUIRE(at != std::string::npos);
  std::string port;
  for (std::size_t i = at + marker.size(); i < pushed.output.size() && isdigit(pushed.output[i]);
       ++i) {
    port.push_back(pushed.output[i]);
  }
  REQUIRE_FALSE(port.empty());
  CHECK(port != "0");
  CHECK(contains(pushed.output, " !     web.1 " + ended + port));
  CHECK(contains(pushed.output, "v1 is still live"));
  CHECK(server.get().body.starts_with("good web."));
  auto releases = server.releases();
  REQUIRE(releases.size() == 2); // newest first
  CHECK(releases[0]["status"] == "failed");
  CHECK(contains(releases[0]["reason"].get<std::string>(), "port " + port));
  CHECK(releases[1]["live"] == true);
}

TEST_CASE("a web process that fails its liveness check is restarted", "[daemon]") {
  Server server;
  write_file(server.work / "app.json", R"({"healthchecks": {"web": [
    {"type": "liveness", "path": "/health", "wait": 1, "attempts": 2, "timeout": 3}]}})");
  auto pushed = server.push("alive");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  REQUIRE(server.serves("alive"));
  int pid = server.ps()[0]["pid"];
  // Checked every second, and healthy: left alone.
  std::this_thread::sleep_for(2500ms);
  CHECK(server.ps()[0]["pid"] == pid);

  // The versioned app answers 500 on /health once its own /app has this file. That /app is
  // the process's own mount (an overlay), seen from the host through the process's root.
  fs::path files;
  for (const auto& entry : fs::directory_iterator(server.root / "run/dynos/demo")) {
    if (entry.is_directory() && entry.path().filename().string().starts_with("web.1-")) {
      files = entry.path();
    }
  }
  REQUIRE_FALSE(files.empty());
  write_file(fs::path(fmt::format("/proc/{}/root", pid)) / files.relative_path() / "app/unhealthy",
             "");
  bool restarted = false;
  for (int i = 0; i < 150 && !restarted; ++i) {
    std::this_thread::sleep_for(100ms);
    auto ps = server.ps();
    restarted =
        ps.size() == 1 && ps[0]["state"] == "up" && ps[0].contains("pid") && ps[0]["pid"] != pid;
  }
  CHECK(restarted);
  CHECK(server.serves("alive"));
  std::string why = "web.1 failed its liveness check 2 times (it answered 500 on /health); "
                    "restarting";
  auto events = server.slipway({"events", "-a", "demo", "--json"});
  INFO(events.output);
  CHECK(contains(events.output, "\"unhealthy\""));
  CHECK(contains(events.output, why));
  auto logs = server.slipway({"logs", "-a", "demo", "-n", "100"});
  INFO(logs.output);
  CHECK(contains(logs.output, "slipway[web.1]: " + why));
}
