// The commands a Heroku user types: unknown commands with a suggestion, help topics,
// Heroku's aliases and argument forms, run's options, and the one-line answers of empty
// listings.
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/server.hpp"

using namespace slipway;
using namespace slipway::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The app's processes once `ready` says they are as wanted (the daemon acts in the
// background after ps:scale and ps:stop).
json wait_ps(const Server& server, const std::string& app,
             const std::function<bool(const json&)>& ready) {
  json processes;
  for (int i = 0; i < 150; ++i) {
    processes = json::parse(server.slipway({"ps", "-a", app, "--json"}).output);
    if (ready(processes)) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  return processes;
}

std::optional<int> pid_of(const json& processes, const std::string& name) {
  for (const auto& process : processes) {
    if (process["name"] == name && process["state"] == "up" && process.contains("pid")) {
      return process["pid"].get<int>();
    }
  }
  return std::nullopt;
}

void write_procfile(Server& server) {
  server.write("demo", "Procfile",
               "web: python3 -m http.server \"$PORT\" --bind 127.0.0.1 --directory www\n"
               "worker: while true; do echo \"worker tick $GREETING\"; sleep 1; done\n"
               "hello: echo \"hello from the hello type\"\n");
  server.commit("demo", "types");
}

} // namespace

TEST_CASE("an unknown command says so and suggests the nearest, and help takes a topic", "[cli]") {
  Server server({.start_daemon = false});
  auto typo = server.slipway({"releases:rolback", "-a", "demo"});
  CHECK(typo.code == 2);
  CHECK(contains(typo.output,
                 "unknown command 'releases:rolback'; did you mean 'releases:rollback'?"));
  auto flags_first = server.slipway({"-a", "demo", "confg"});
  CHECK(flags_first.code == 2);
  CHECK(contains(flags_first.output, "unknown command 'confg'; did you mean 'config'?"));
  auto nothing_near = server.slipway({"frobnicate"});
  CHECK(contains(nothing_near.output, "unknown command 'frobnicate'"));
  CHECK_FALSE(contains(nothing_near.output, "did you mean"));

  auto topic = server.slipway({"help", "config"});
  INFO(topic.output);
  CHECK(topic.ok());
  CHECK(contains(topic.output, "config:set"));
  CHECK(contains(topic.output, "config:unset"));
  auto command = server.slipway({"help", "ps:scale"});
  CHECK(command.ok());
  CHECK(contains(command.output, "web+1"));
  auto alias = server.slipway({"help", "releases:rollback"});
  CHECK(alias.ok());
  CHECK(contains(alias.output, "VERSION"));
  auto unknown_topic = server.slipway({"help", "confg"});
  CHECK(unknown_topic.code == 2);
  CHECK(contains(unknown_topic.output, "unknown help topic 'confg'; did you mean 'config'?"));
  CHECK(contains(server.slipway({"help"}).output, "apps:create"));
}

TEST_CASE("empty listings say so, and apps:destroy takes either form and needs --confirm",
          "[cli]") {
  Server server({.start_daemon = false});
  server.create("demo");
  auto config = server.slipway({"config", "-a", "demo"});
  CHECK(config.ok());
  CHECK(contains(config.output, "demo has no config vars"));
  auto releases = server.slipway({"releases", "-a", "demo"});
  CHECK(releases.ok());
  CHECK(contains(releases.output, "demo has no releases yet"));

  // Without a terminal and without --confirm, nothing is destroyed.
  auto refused = server.slipway({"apps:destroy", "demo"});
  CHECK(refused.code == 2);
  CHECK(contains(refused.output, "re-run with --confirm demo"));
  CHECK(contains(server.slipway({"apps:destroy", "-a", "demo", "--confirm", "other"}).output,
                 "--confirm 'other' does not match the app name 'demo'"));
  CHECK(contains(server.slipway({"apps:destroy", "demo", "-a", "other"}).output,
                 "name the app once"));
  CHECK(server.slipway({"apps"}).output == "demo\n");
  REQUIRE(server.slipway({"apps:destroy", "-a", "demo", "--confirm", "demo"}).ok());
  server.create("again");
  REQUIRE(server.slipway({"destroy", "again", "--confirm", "again"}).ok()); // Heroku's alias
  CHECK(server.slipway({"apps"}).output.empty());
}

TEST_CASE("config:set reads a value from stdin and after --, and config:unset of an unset var is "
          "a note",
          "[cli]") {
  Server server;
  server.create("demo", fixture("apps/procfile"));
  REQUIRE(server.push("demo").ok());

  Command set{.argv = {slipway_binary().string(), "--root", server.root.string(), "config:set",
                       "-a", "demo", "CERT", "-"},
              .stdin_data = "-----BEGIN X-----\nline two\n"};
  auto from_stdin = run(set);
  REQUIRE(from_stdin);
  INFO(from_stdin->output);
  REQUIRE(from_stdin->ok());
  CHECK(server.slipway({"config:get", "-a", "demo", "CERT"}).output ==
        "-----BEGIN X-----\nline two\n");
  REQUIRE(server.slipway({"config:set", "-a", "demo", "--", "FLAGS=-v --debug"}).ok());
  CHECK(server.slipway({"config:get", "-a", "demo", "FLAGS"}).output == "-v --debug\n");
  REQUIRE(server.slipway({"config:add", "-a", "demo", "VIA=alias"}).ok());

  int releases = static_cast<int>(server.releases("demo").size());
  auto unset = server.slipway({"config:unset", "-a", "demo", "NEVER_SET"});
  CHECK(unset.ok());
  CHECK(contains(unset.output, "NEVER_SET is not set; nothing to unset"));
  CHECK(static_cast<int>(server.releases("demo").size()) == releases); // no new release
  auto partly = server.slipway({"config:unset", "-a", "demo", "NEVER_SET", "VIA"});
  CHECK(partly.ok());
  CHECK(static_cast<int>(server.releases("demo").size()) == releases + 1);
  CHECK(server.releases("demo")[0]["description"] == "Unset VIA config vars");
}

TEST_CASE("ps:scale prints and changes the formation relatively, ps:restart and ps:stop take "
          "one process, and ps:type has one size",
          "[cli]") {
  Server server;
  server.create("demo", fixture("apps/procfile"));
  write_procfile(server);
  REQUIRE(server.push("demo").ok());

  CHECK(server.slipway({"ps:scale", "-a", "demo"}).output == "web=1 worker=0 hello=0\n");
  REQUIRE(server.slipway({"ps:scale", "-a", "demo", "web+1", "worker+1"}).ok());
  CHECK(server.slipway({"ps:scale", "-a", "demo"}).output == "web=2 worker=1 hello=0\n");
  auto below = server.slipway({"ps:scale", "-a", "demo", "worker-2"});
  CHECK_FALSE(below.ok());
  CHECK(contains(below.output, "demo would run -1 worker processes"));
  CHECK(contains(server.slipway({"ps:scale", "-a", "demo", "web*2"}).output,
                 "'web*2' is not TYPE=COUNT, TYPE+COUNT or TYPE-COUNT"));

  auto all_up = [](const json& processes) {
    int up = 0;
    for (const auto& process : processes) {
      up += process["state"] == "up" ? 1 : 0;
    }
    return up == 3;
  };
  auto before = wait_ps(server, "demo", all_up);
  REQUIRE(all_up(before));
  auto web1 = pid_of(before, "web.1");
  auto web2 = pid_of(before, "web.2");
  REQUIRE((web1 && web2));

  auto restarted = server.slipway({"ps:restart", "-a", "demo", "web.1"});
  INFO(restarted.output);
  REQUIRE(restarted.ok());
  CHECK(contains(restarted.output, "done, 1 restarted"));
  auto after = wait_ps(server, "demo", all_up);
  CHECK(pid_of(after, "web.1") != web1);
  CHECK(pid_of(after, "web.2") == web2);
  CHECK(contains(server.slipway({"ps:restart", "-a", "demo", "web.7"}).output,
                 "demo has no web.7 process"));
  CHECK(server.slipway({"ps:restart", "-a", "demo", "web.x"}).code == 2);

  auto worker = pid_of(after, "worker.1");
  auto stopped = server.slipway({"ps:kill", "-a", "demo", "worker.1"}); // Heroku's alias
  INFO(stopped.output);
  REQUIRE(stopped.ok());
  CHECK(contains(stopped.output, "the formation starts it again"));
  auto again = wait_ps(server, "demo", [&](const json& processes) {
    return all_up(processes) && pid_of(processes, "worker.1") != worker;
  });
  CHECK(pid_of(again, "worker.1") != worker);
  CHECK(pid_of(again, "web.2") == web2);

  auto type = server.slipway({"ps:type", "-a", "demo"});
  CHECK(type.ok());
  CHECK(contains(type.output, "every process has 512.0MB memory"));
  auto resize = server.slipway({"ps:resize", "-a", "demo", "web=performance-l"});
  CHECK(resize.code == 2);
  CHECK(contains(resize.output, "slipway runs every process at one size"));
}

TEST_CASE("run takes -e, runs a process type's command, passes the command's own flags, and "
          "run:detached logs its output",
          "[cli]") {
  Server server;
  server.create("demo", fixture("apps/procfile"));
  write_procfile(server);
  REQUIRE(server.push("demo").ok());
  REQUIRE(server.slipway({"config:set", "-a", "demo", "GREETING=from-config"}).ok());

  auto env = server.slipway({"run", "-a", "demo", "-e", "GREETING=override;EXTRA=1", "-e", "MORE=2",
                             "echo $GREETING $EXTRA $MORE"});
  INFO(env.output);
  CHECK(env.ok());
  CHECK(contains(env.output, "override 1 2"));
  // Everything after the command's first word is the command's own.
  auto flags = server.slipway({"run", "-a", "demo", "python3", "-c", "print('own -c')"});
  CHECK(contains(flags.output, "own -c"));
  auto type = server.slipway({"run", "-a", "demo", "hello"});
  CHECK(contains(type.output, "hello from the hello type"));
  CHECK(contains(server.slipway({"run", "-a", "demo", "-e", "1BAD=x", "true"}).output,
                 "invalid variable name '1BAD'"));

  auto detached = server.slipway({"run:detached", "-a", "demo", "echo detached $GREETING"});
  INFO(detached.output);
  REQUIRE(detached.ok());
  auto name_at = detached.output.find("up, run.");
  REQUIRE(name_at != std::string::npos);
  std::string dyno =
      detached.output.substr(name_at + 4, detached.output.find('\n', name_at) - name_at - 4);
  std::string logs;
  for (int i = 0; i < 100 && !contains(logs, "detached from-config"); ++i) {
    std::this_thread::sleep_for(100ms);
    logs = server.slipway({"logs", "-a", "demo", "--ps", dyno}).output;
  }
  CHECK(contains(logs, "app[" + dyno + "]: detached from-config"));
  CHECK_FALSE(contains(logs, "app[web.1]"));

  // A detached one-off runs on until it ends, or until ps:stop ends it.
  auto sleeper = server.slipway({"run:detached", "-a", "demo", "echo sleeping; sleep 600"});
  REQUIRE(sleeper.ok());
  auto at = sleeper.output.find("up, run.");
  std::string name = sleeper.output.substr(at + 4, sleeper.output.find('\n', at) - at - 4);
  std::string said;
  for (int i = 0; i < 100 && !contains(said, "sleeping"); ++i) {
    std::this_thread::sleep_for(100ms);
    said = server.slipway({"logs", "-a", "demo", "--ps", name}).output;
  }
  auto stop = server.slipway({"ps:stop", "-a", "demo", name});
  INFO(stop.output);
  CHECK(stop.ok());
  for (int i = 0; i < 100 && !contains(said, "]: Process "); ++i) {
    std::this_thread::sleep_for(100ms);
    said = server.slipway({"logs", "-a", "demo", "--ps", name}).output;
  }
  CHECK(contains(said, "slipway[" + name + "]: Process "));
  CHECK(contains(server.slipway({"ps:stop", "-a", "demo", name}).output,
                 "demo has no " + name + " process running"));
  REQUIRE(server.slipway({"releases:rollback", "-a", "demo"}).ok()); // Heroku's name
  CHECK(server.releases("demo")[0]["description"].get<std::string>().starts_with("Rollback to v"));
}

TEST_CASE("logs filter by process and source and take --num", "[cli]") {
  Server server;
  server.create("demo", fixture("apps/procfile"));
  write_procfile(server);
  REQUIRE(server.push("demo").ok());
  REQUIRE(server.slipway({"ps:scale", "-a", "demo", "worker=1"}).ok());
  std::string worker;
  for (int i = 0; i < 100 && !contains(worker, "worker tick"); ++i) {
    std::this_thread::sleep_for(100ms);
    worker = server.slipway({"logs", "-a", "demo", "--ps", "worker", "--source", "app"}).output;
  }
  CHECK(contains(worker, "app[worker.1]: worker tick"));
  CHECK_FALSE(contains(worker, "slipway["));
  CHECK_FALSE(contains(worker, "[web.1]"));
  auto own = server.slipway({"logs", "-a", "demo", "--source", "slipway", "--num", "3"});
  CHECK(own.ok());
  CHECK(std::ranges::count(own.output, '\n') == 3);
  CHECK_FALSE(contains(own.output, " app["));
  CHECK(server.slipway({"logs", "-a", "demo", "--source", "heroku"}).code == 2);
  CHECK(server.slipway({"logs", "-a", "demo", "--ps", "web.1;rm"}).code == 2);
}

TEST_CASE("apps:rename moves the app with its releases, config, domains and repository", "[cli]") {
  Server server;
  server.create("demo", fixture("apps/procfile"));
  REQUIRE(server.push("demo").ok());
  REQUIRE(server.slipway({"config:set", "-a", "demo", "KEPT=yes"}).ok());
  REQUIRE(server.slipway({"domains:add", "-a", "demo", "www.example.com"}).ok());
  REQUIRE(server.serves("demo", "hello from procfile"));
  auto releases = server.releases("demo").size();

  CHECK(contains(server.slipway({"apps:rename", "demo", "Bad_Name"}).output, "invalid app name"));
  server.create("taken");
  CHECK(contains(server.slipway({"apps:rename", "demo", "taken"}).output,
                 "app 'taken' already exists"));

  auto renamed = server.slipway({"apps:rename", "renamed", "-a", "demo"}); // Heroku's form
  INFO(renamed.output);
  REQUIRE(renamed.ok());
  CHECK(contains(renamed.output, "Renamed demo to renamed"));
  CHECK(server.slipway({"apps"}).output == "renamed\ntaken\n");
  bool serves = server.serves("renamed", "hello from procfile");
  INFO(read_text(server.root / "apps/renamed/logs/current.log"));
  CHECK(serves);
  CHECK(server.host_serves("www.example.com", "hello from procfile"));
  CHECK(server.get("demo").status != 200); // the old name answers nothing
  CHECK(server.releases("renamed").size() == releases);
  CHECK(server.slipway({"config:get", "-a", "renamed", "KEPT"}).output == "yes\n");
  CHECK(contains(server.slipway({"events", "-a", "renamed"}).output, "Renamed from demo"));

  // The repository moved with it: a push to the new name deploys.
  server.commit("demo", "after the rename");
  auto pushed =
      server.run({"git", "push", "-q", (server.root / "repos/renamed.git").string(), "main"},
                 server.work("demo"));
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  CHECK(server.releases("renamed").size() == releases + 1);
  // And the old name is free again.
  REQUIRE(server.slipway({"apps:create", "demo"}).ok());
}

TEST_CASE("a restart whose replacement fails shows what it printed, and the old process serves "
          "on",
          "[cli]") {
  Server server;
  server.create("demo", fixture("apps/procfile"));
  // Starts until DEADLINE (a config var), then refuses to.
  server.write("demo", "Procfile",
               "web: if [ \"$(date +%s)\" -gt \"${DEADLINE:-0}\" ]; then echo \"too late to "
               "start\"; exit 3; fi; exec python3 -m http.server \"$PORT\" --bind 127.0.0.1 "
               "--directory www\n");
  server.commit("demo", "deadline");
  auto deadline = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count() +
                  4;
  REQUIRE(server.slipway({"config:set", "-a", "demo", fmt::format("DEADLINE={}", deadline)}).ok());
  REQUIRE(server.push("demo").ok());
  REQUIRE(server.serves("demo", "hello from procfile"));
  // `date +%s` counts whole seconds: past DEADLINE means DEADLINE + 1.
  while (std::chrono::system_clock::now().time_since_epoch() <=
         std::chrono::seconds(deadline + 1)) {
    std::this_thread::sleep_for(200ms);
  }
  auto restarted = server.slipway({"ps:restart", "-a", "demo", "web"});
  INFO(restarted.output);

  CHECK_FALSE(restarted.ok());
  CHECK(contains(restarted.output, "app[web.1]: too late to start"));
  CHECK(contains(restarted.output, "web.1 was not restarted"));
  CHECK(server.serves("demo", "hello from procfile"));
}
