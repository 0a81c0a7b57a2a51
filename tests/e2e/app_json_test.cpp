// app.json end to end: what it sets up on an app's first deploy, over a real git push.
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
