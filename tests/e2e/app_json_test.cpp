// app.json end to end: what it sets up on an app's first deploy, over a real git push.
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/server.hpp"

using namespace slipway;
using namespace slipway::test;
using nlohmann::json;

TEST_CASE("app.json env: the first push names every missing var, then sets the rest once",
          "[app_json]") {
  Server server;
  server.create("env", fixture("apps/env"));

  auto refused = server.push("env");
  INFO(refused.output);
  CHECK_FALSE(refused.ok());
  CHECK(contains(refused.output,
                 "app.json requires config vars API_KEY, DATABASE_URL, with no value given; "
                 "set them first: slipway config:set -a env API_KEY=... DATABASE_URL=..."));
  CHECK(server.releases("env").empty());

  REQUIRE(server.slipway({"config:set", "-a", "env", "API_KEY=k1", "DATABASE_URL=db"}).ok());
  server.commit("env", "again");
  auto pushed = server.push("env");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  CHECK(contains(pushed.output,
                 "Setting config vars from app.json: GREETING, SECRET_KEY_BASE (generated)"));
  CHECK(contains(pushed.output, "app.json: addons: heroku-postgresql ignored: slipway does not "
                                "provision add-ons"));
  CHECK(server.serves("env", "hello 64 k1"));
  auto config = json::parse(server.slipway({"config", "-a", "env", "--json"}).output);
  CHECK(config["GREETING"] == "hello");
  CHECK(config["API_KEY"] == "k1");
  CHECK_FALSE(config.contains("OPTIONAL_FLAG"));
  std::string secret = config["SECRET_KEY_BASE"];
  CHECK(secret.size() == 64);
  CHECK(pushed.output.find(secret) == std::string::npos); // values are never printed

  // Later deploys leave config vars alone, even one app.json gives a value for.
  REQUIRE(server.slipway({"config:set", "-a", "env", "GREETING=changed"}).ok());
  server.commit("env", "third");
  auto again = server.push("env");
  INFO(again.output);
  REQUIRE(again.ok());
  CHECK_FALSE(contains(again.output, "Setting config vars from app.json"));
  auto after = json::parse(server.slipway({"config", "-a", "env", "--json"}).output);
  CHECK(after["GREETING"] == "changed");
  CHECK(after["SECRET_KEY_BASE"] == secret);
  CHECK(server.serves("env", "changed 64 k1"));
}

TEST_CASE("app.json formation: a worker-only app runs its worker from the first push",
          "[app_json]") {
  Server server;
  server.create("worker", fixture("apps/worker"));
  auto pushed = server.push("worker");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  CHECK(contains(pushed.output, "Scaled to worker@1 (app.json formation)"));
  CHECK(contains(pushed.output,
                 "app.json: formation.clock ignored: the app has no clock process type"));
  CHECK(contains(pushed.output, "app.json: formation sizes ignored"));
  CHECK(contains(pushed.output, "v1 deployed with no web process (the Procfile declares none; "
                                "running worker@1)"));
  CHECK_FALSE(contains(pushed.output, "deployed (v1)"));

  json processes;
  for (int i = 0; i < 100; ++i) {
    processes = json::parse(server.slipway({"ps", "-a", "worker", "--json"}).output);
    if (processes.size() == 1 && processes[0]["state"] == "up") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(processes.size() == 1);
  CHECK(processes[0]["name"] == "worker.1");
  CHECK(processes[0]["state"] == "up");

  // ps:scale owns the formation after the first deploy.
  REQUIRE(server.slipway({"ps:scale", "-a", "worker", "worker=0"}).ok());
  server.commit("worker", "second");
  auto again = server.push("worker");
  INFO(again.output);
  REQUIRE(again.ok());
  CHECK_FALSE(contains(again.output, "app.json formation"));
  CHECK(contains(again.output, "v2 deployed with no web process (the Procfile declares none; "
                               "nothing runs)"));
  auto events = server.slipway({"events", "-a", "worker", "--json"});
  CHECK(contains(events.output, "Scaled to worker@1 (app.json formation)"));
}

TEST_CASE("app.json scripts: postdeploy once after the first deploy, dokku.postdeploy each time",
          "[app_json]") {
  Server server;
  server.create("scripted");
  server.write("scripted", "app.json", R"({"scripts": {
    "postdeploy": "echo seeding $GREETING in $DYNO; exit 3",
    "dokku": {"postdeploy": "echo after the switch of $SLIPWAY_RELEASE"}},
    "env": {"GREETING": "hello"}})");
  server.commit("scripted", "scripts");
  auto first = server.push("scripted");
  INFO(first.output);
  REQUIRE(first.ok()); // a failed postdeploy does not undo the deploy
  CHECK(contains(first.output, "Running postdeploy script: echo seeding $GREETING in $DYNO"));
  CHECK(contains(first.output, "seeding hello in postdeploy.1"));
  CHECK(contains(first.output,
                 "postdeploy failed: postdeploy script exited with status 3; v1 stays live"));
  CHECK(contains(first.output, "after the switch of v1"));
  CHECK(server.serves("scripted", "hello from scripted"));

  server.commit("scripted", "second");
  auto second = server.push("scripted");
  INFO(second.output);
  REQUIRE(second.ok());
  CHECK_FALSE(contains(second.output, "seeding"));
  CHECK(contains(second.output, "after the switch of v2"));
  auto events = server.slipway({"events", "-a", "scripted", "--json"}).output;
  CHECK(contains(events, "\"script_failed\""));
  CHECK(contains(events, "\"script_succeeded\""));
}

TEST_CASE("app.json scripts.dokku.predeploy runs in the build: what it writes is in the slug, "
          "its failure rejects the push",
          "[app_json]") {
  Server server;
  server.create("predeploy", fixture("apps/procfile"));
  REQUIRE(server.slipway({"config:set", "-a", "predeploy", "GREETING=hello"}).ok());
  server.write("predeploy", ".profile.d/where.sh", "export FROM_PROFILE=profile.d\n");
  server.write("predeploy", "app.json", R"({"scripts": {"dokku": {"predeploy":
    "echo \"predeploy in $PWD on $STACK\"; echo to stderr >&2; echo \"$GREETING from $FROM_PROFILE\" > www/predeploy.txt"}}})");
  std::string first_commit = server.commit("predeploy", "predeploy");
  auto first = server.push("predeploy");
  INFO(first.output);
  REQUIRE(first.ok());
  CHECK(contains(first.output, "-----> Running dokku-predeploy script: echo "));
  CHECK(contains(first.output, "remote:        predeploy in /app on slipway-24"));
  CHECK(contains(first.output, "remote:        to stderr"));
  // Before the slug is packed: the file is in the release the web process serves.
  CHECK(first.output.find("Running dokku-predeploy") < first.output.find("Compressing slug"));
  CHECK(server.get("predeploy", "/predeploy.txt").body == "hello from profile.d\n");

  server.write("predeploy", "app.json",
               R"({"scripts": {"dokku": {"predeploy": "echo about to fail; exit 4"}}})");
  server.commit("predeploy", "failing predeploy");
  auto failed = server.push("predeploy");
  INFO(failed.output);
  CHECK_FALSE(failed.ok());
  CHECK(contains(failed.output, "remote:        about to fail"));
  CHECK(contains(failed.output, " !     dokku-predeploy script exited with status 4"));
  CHECK_FALSE(contains(failed.output, "Compressing slug"));
  CHECK(server.live_commit("predeploy") == first_commit);
  CHECK(server.get("predeploy", "/predeploy.txt").body == "hello from profile.d\n");
}
