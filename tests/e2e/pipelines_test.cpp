// Pipelines end to end: apps coupled by stage, a promotion that releases staging's very slug
// on production with production's config, a target that fails its release phase while
// another succeeds, pipelines:diff from the apps' git history, promotion_only refusing a
// direct push, a promoted commit pushed later reusing its slug, and who may do what.
#include <atomic>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/server.hpp"

namespace slipway::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json live_release(const Server& server, const std::string& app) {
  auto shown = server.slipway({"releases:info", "-a", app, "--json"});
  INFO(shown.output);
  REQUIRE(shown.ok());
  return json::parse(shown.output);
}

std::size_t release_count(const Server& server, const std::string& app) {
  return server.releases(app).size();
}

// Adds the ssh key `name` (a collaborator) to the server.
void add_key(const Server& server, const std::string& name) {
  fs::path key = server.dir / name;
  REQUIRE(
      run_program({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key.string()})
          .ok());
  auto added =
      run({.argv = {slipway_binary().string(), "--root", server.root.string(), "keys:add", name},
           .stdin_data = read_text(key.string() + ".pub")});
  REQUIRE(added);
  INFO(added->output);
  REQUIRE(added->ok());
}

// staging (shop-stg) and two production apps, each with a STAGE_NAME of its own.
struct Shop {
  // keys:add writes authorized_keys: the test's own, never ~/.ssh's.
  Server server{{.config = "[runtime]\nhealth_timeout = \"10s\"\nstop_grace = \"3s\"\n"
                           "[ssh]\nauthorized_keys = \"@DIR@/authorized_keys\"\n"}};
  Shop() {
    for (const char* app : {"shop-stg", "shop-prod", "shop-prod2"}) {
      server.create(app, fixture("apps/stage"));
    }
    REQUIRE(
        server.slipway({"pipelines:create", "shop", "-a", "shop-stg", "--stage", "staging"}).ok());
    REQUIRE(server.slipway({"pipelines:add", "shop", "-a", "shop-prod", "-s", "production"}).ok());
    REQUIRE(server.slipway({"pipelines:add", "shop", "-a", "shop-prod2", "-s", "production"}).ok());
    REQUIRE(server.slipway({"config:set", "-a", "shop-stg", "STAGE_NAME=staging"}).ok());
    REQUIRE(server.slipway({"config:set", "-a", "shop-prod", "STAGE_NAME=production"}).ok());
    REQUIRE(server.slipway({"config:set", "-a", "shop-prod2", "STAGE_NAME=production2"}).ok());
  }
  std::string push_version(const std::string& version) {
    server.write("shop-stg", "version.txt", version + "\n");
    std::string commit = server.commit("shop-stg", version);
    auto pushed = server.push("shop-stg");
    INFO(pushed.output);
    REQUIRE(pushed.ok());
    return commit;
  }
  ExitStatus promote(std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"pipelines:promote", "-a", "shop-stg"});
    return server.slipway(args);
  }
};

TEST_CASE("a promotion releases staging's slug on production with production's config",
          "[pipelines]") {
  Shop shop;
  Server& server = shop.server;
  shop.push_version("v1");
  REQUIRE(server.serves("shop-stg", "v1 staging"));

  // Nothing was promoted yet: production lacks everything staging runs.
  auto diff = server.slipway({"pipelines:diff", "-a", "shop-prod"});
  INFO(diff.output);
  REQUIRE(diff.ok());
  CHECK(contains(diff.output, "shop-prod is 2 commits behind shop-stg v"));

  auto promoted = shop.promote();
  INFO(promoted.output);
  REQUIRE(promoted.ok());
  // No build: the slug is staging's.
  CHECK_FALSE(contains(promoted.output, "Compressing slug"));
  CHECK_FALSE(contains(promoted.output, "app detected"));
  CHECK(contains(promoted.output, "release phase ok for v1"));
  CHECK(contains(promoted.output, "shop-prod                      succeeded  v"));
  CHECK(contains(promoted.output, "shop-prod2                     succeeded  v"));
  CHECK(server.serves("shop-prod", "v1 production"));
  CHECK(server.serves("shop-prod2", "v1 production2"));

  json staging = live_release(server, "shop-stg");
  json production = live_release(server, "shop-prod");
  CHECK(production["slug"] == staging["slug"]);
  CHECK(production["description"].get<std::string>() ==
        fmt::format("Promote shop-stg v{} ({})", staging["version"].get<int>(),
                    staging["commit"].get<std::string>().substr(0, 7)));
  CHECK(production["promoted_from"] ==
        json({{"app", "shop-stg"}, {"version", staging["version"]}}));
  CHECK(production["commit"] == staging["commit"]);
  // One file in the store: shared, not copied.
  std::size_t slugs = 0;
  for (const auto& entry : fs::directory_iterator(server.root / "slugs")) {
    slugs += entry.path().filename().string().find(".tar.") != std::string::npos ? 1 : 0;
  }
  CHECK(slugs == 1);

  auto events = server.slipway({"events", "-a", "shop-prod", "--json"});
  CHECK(contains(events.output, "pipeline-promotion"));
  CHECK(contains(server.slipway({"logs", "-a", "shop-prod", "-n", "50"}).output,
                 "Promoted shop-stg v"));

  auto info = server.slipway({"pipelines:info", "shop", "--json"});
  INFO(info.output);
  REQUIRE(info.ok());
  json board = json::parse(info.output);
  REQUIRE(board["apps"].size() == 3);
  CHECK(board["apps"][0]["name"] == "shop-stg");
  CHECK(board["apps"][1]["summary"].get<std::string>().starts_with("up to date with shop-stg v"));
}

TEST_CASE("a target whose release phase fails keeps its release while the other is promoted",
          "[pipelines]") {
  Shop shop;
  Server& server = shop.server;
  shop.push_version("v1");
  REQUIRE(shop.promote().ok());
  REQUIRE(server.serves("shop-prod2", "v1 production2"));
  // shop-prod2's release phase refuses v3; its config change itself passes (v1 runs).
  REQUIRE(server.slipway({"config:set", "-a", "shop-prod2", "BREAK_ON=v3"}).ok());
  std::string v2 = shop.push_version("v2");
  std::string v3 = shop.push_version("v3");
  REQUIRE(server.serves("shop-stg", "v3 staging"));

  // Exactly the commits pushed to staging since the last promotion, newest first.
  auto diff = server.slipway({"pipelines:diff", "-a", "shop-prod"});
  INFO(diff.output);
  REQUIRE(diff.ok());
  CHECK(contains(diff.output, "shop-prod is 2 commits behind shop-stg v"));
  auto v3_line = diff.output.find(v3.substr(0, 7));
  auto v2_line = diff.output.find(v2.substr(0, 7));
  CHECK(v3_line != std::string::npos);
  CHECK(v2_line != std::string::npos);
  CHECK(v3_line < v2_line);
  CHECK(contains(diff.output, "t <t@example.com>  v3"));
  auto info = server.slipway({"pipelines:info", "shop"});
  CHECK(contains(info.output, "2 commits behind shop-stg v"));

  std::size_t prod2_releases = release_count(server, "shop-prod2");
  int prod2_live = live_release(server, "shop-prod2")["version"];
  auto promoted = shop.promote();
  INFO(promoted.output);
  CHECK_FALSE(promoted.ok()); // one target failed
  CHECK(contains(promoted.output, "release phase refuses v3 (BREAK_ON)"));
  CHECK(contains(promoted.output, "shop-prod                      succeeded"));
  CHECK(contains(promoted.output, "shop-prod2                     failed"));
  CHECK(contains(promoted.output, "promotion to 1 of 2 apps failed"));
  CHECK(server.serves("shop-prod", "v3 production"));
  CHECK(server.get("shop-prod2").body == "v1 production2\n");
  CHECK(live_release(server, "shop-prod2")["version"] == prod2_live);
  // The failed release is recorded, as failed.
  CHECK(release_count(server, "shop-prod2") == prod2_releases + 1);
  CHECK(server.releases("shop-prod2")[0]["status"] == "failed");
  CHECK(contains(server.slipway({"pipelines:diff", "-a", "shop-prod"}).output,
                 "shop-prod is up to date with shop-stg v"));
}

TEST_CASE("promotion_only refuses a direct push and a pushed promoted commit reuses its slug",
          "[pipelines]") {
  Shop shop;
  Server& server = shop.server;
  std::string v1 = shop.push_version("v1");
  REQUIRE(shop.promote({"--to", "shop-prod"}).ok());
  REQUIRE(server.serves("shop-prod", "v1 production"));

  // Only production apps may be protected.
  auto staging = server.slipway({"apps:set", "-a", "shop-stg", "promotion_only=true"});
  CHECK_FALSE(staging.ok());
  CHECK(contains(staging.output, "promotion_only is for the production apps of a pipeline; "
                                 "'shop-stg' is in the staging stage"));
  CHECK_FALSE(server.slipway({"apps:set", "-a", "shop-prod", "promotion_only=yes"}).ok());
  REQUIRE(server.slipway({"apps:set", "-a", "shop-prod", "promotion_only=true"}).ok());

  std::size_t releases = release_count(server, "shop-prod");
  server.write("shop-prod", "version.txt", "direct\n");
  server.commit("shop-prod", "direct");
  auto pushed = server.push("shop-prod");
  INFO(pushed.output);
  CHECK_FALSE(pushed.ok());
  CHECK(contains(pushed.output,
                 "production changes only by promotion: slipway pipelines:promote -a shop-stg"));
  CHECK_FALSE(contains(pushed.output, "Building"));
  CHECK(server.branch("shop-prod").empty());
  CHECK(release_count(server, "shop-prod") == releases);
  CHECK(server.get("shop-prod").body == "v1 production\n");
  CHECK(contains(server.slipway({"events", "-a", "shop-prod"}).output, "Deploy refused"));
  // Rollback and config changes stay allowed.
  CHECK(server.slipway({"config:set", "-a", "shop-prod", "EXTRA=1"}).ok());

  // The promoted commit pushed to an app of the pipeline: staging's slug, no build.
  auto reused =
      server.run({"git", "push", "-q", (server.root / "repos/shop-prod2.git").string(), "main"},
                 server.work("shop-stg"));
  INFO(reused.output);
  REQUIRE(reused.ok());
  CHECK(contains(reused.output, "Reusing slug sha256:"));
  CHECK(contains(reused.output, "from shop-stg v"));
  CHECK_FALSE(contains(reused.output, "Compressing slug"));
  CHECK(server.serves("shop-prod2", "v1 production2"));
  CHECK(live_release(server, "shop-prod2")["slug"] == live_release(server, "shop-stg")["slug"]);
  CHECK(live_release(server, "shop-prod2")["commit"] == v1);

  // A collaborator's push never reuses the slug of an app it may not use (a build may bake
  // that app's config into it): it builds.
  server.create("shop-eu", fixture("apps/stage"));
  REQUIRE(server.slipway({"pipelines:add", "shop", "-a", "shop-eu", "-s", "production"}).ok());
  add_key(server, "bob");
  REQUIRE(server.slipway({"access:add", "-a", "shop-eu", "bob"}).ok());
  auto built =
      run({.argv = {"git", "push", "-q", (server.root / "repos/shop-eu.git").string(), "main"},
           .env = {{"SLIPWAY_USER", "bob"}},
           .cwd = server.work("shop-stg")});
  REQUIRE(built);
  INFO(built->output);
  REQUIRE(built->ok());
  CHECK_FALSE(contains(built->output, "Reusing slug"));
  CHECK(contains(built->output, "Compressing slug"));
  CHECK(server.serves("shop-eu", "v1 ?"));

  // Nor is a slug that a collaborator could shape (through its app's config or buildpacks)
  // lent to an app it may not change: the admin's push of the commit bob built builds.
  server.write("shop-stg", "version.txt", "v9\n");
  server.commit("shop-stg", "v9");
  auto by_bob =
      run({.argv = {"git", "push", "-q", (server.root / "repos/shop-eu.git").string(), "main"},
           .env = {{"SLIPWAY_USER", "bob"}},
           .cwd = server.work("shop-stg")});
  REQUIRE(by_bob);
  REQUIRE(by_bob->ok());
  auto by_admin =
      server.run({"git", "push", "-q", (server.root / "repos/shop-prod2.git").string(), "main"},
                 server.work("shop-stg"));
  INFO(by_admin.output);
  REQUIRE(by_admin.ok());
  CHECK_FALSE(contains(by_admin.output, "Reusing slug"));
  CHECK(contains(by_admin.output, "Compressing slug"));
}

TEST_CASE("a promotion killed in a target's release phase leaves that target's release live",
          "[pipelines][faults]") {
  Shop shop;
  Server& server = shop.server;
  shop.push_version("v1");
  REQUIRE(shop.promote({"--to", "shop-prod"}).ok());
  REQUIRE(server.serves("shop-prod", "v1 production"));
  REQUIRE(server.slipway({"config:set", "-a", "shop-prod", "SLOW_ON=v2"}).ok());
  shop.push_version("v2");

  // The promoting command is killed (its whole process group) while shop-prod's release
  // phase runs.
  std::atomic<bool> in_phase = false;
  auto killed =
      run({.argv = {slipway_binary().string(), "--root", server.root.string(), "pipelines:promote",
                    "-a", "shop-stg", "--to", "shop-prod"},
           .on_line =
               [&](std::string_view line) {
                 if (line.find("release phase sleeps for v2") != line.npos) {
                   in_phase = true;
                 }
               },
           .timeout = std::chrono::seconds(50),
           .watch = [&]() -> std::optional<std::string> {
             return in_phase ? std::optional<std::string>("killed mid-promotion") : std::nullopt;
           },
           .watch_interval = std::chrono::milliseconds(100)});
  REQUIRE(killed);
  CHECK(killed->stopped_because == "killed mid-promotion");
  CHECK(server.get("shop-prod").body == "v1 production\n");

  // The next operation on the app settles the release the promotion left pending.
  REQUIRE(server.slipway({"config:unset", "-a", "shop-prod", "SLOW_ON"}).ok());
  bool interrupted = false;
  for (const auto& release : server.releases("shop-prod")) {
    interrupted |= release["description"].get<std::string>().starts_with("Promote shop-stg") &&
                   release["status"] == "failed";
  }
  CHECK(interrupted);
  CHECK(server.get("shop-prod").body == "v1 production\n");
  // Its record was claimed and left pending with its lock free: what a reader settles as
  // interrupted (tests/unit/pipelines_test.cpp; the API's reads, pipeline_api_test.cpp).
  for (const auto& entry : fs::directory_iterator(server.root / "pipelines/promotions")) {
    if (entry.path().extension() == ".toml") {
      CHECK(contains(read_text(entry.path()), "started = true"));
    }
  }
  // And promoting again works.
  auto again = shop.promote({"--to", "shop-prod"});
  INFO(again.output);
  REQUIRE(again.ok());
  CHECK(server.serves("shop-prod", "v2 production"));
}

TEST_CASE("pipelines: who may do what, and malformed requests", "[pipelines][isolation]") {
  Server server({.config = "[runtime]\nhealth_timeout = \"10s\"\nstop_grace = \"3s\"\n"
                           "[ssh]\nauthorized_keys = \"@DIR@/authorized_keys\"\n",
                 .start_daemon = false});
  for (const char* app : {"web-stg", "web-prod", "secret-app"}) {
    REQUIRE(server.slipway({"apps:create", app}).ok());
  }
  add_key(server, "bob");
  REQUIRE(server.slipway({"access:add", "-a", "web-stg", "bob"}).ok());
  auto as_bob = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--root", server.root.string()});
    return run_slipway(args, {{"SLIPWAY_USER", "bob"}});
  };

  auto created = as_bob({"pipelines:create", "web"});
  CHECK_FALSE(created.ok());
  CHECK(contains(created.output, "'pipelines:create' needs an admin key"));
  REQUIRE(server.slipway({"pipelines:create", "web"}).ok());
  REQUIRE(server.slipway({"pipelines:create", "hidden", "-a", "secret-app", "-s", "staging"}).ok());
  // bob sees no pipeline of his until one holds an app of his.
  CHECK(as_bob({"pipelines"}).output.empty());
  CHECK(contains(as_bob({"pipelines:info", "hidden"}).output, "pipeline 'hidden' does not exist"));
  REQUIRE(as_bob({"pipelines:add", "web", "-a", "web-stg", "-s", "staging"}).ok());
  auto foreign = as_bob({"pipelines:add", "web", "-a", "web-prod", "-s", "production"});
  CHECK(contains(foreign.output, "key 'bob' has no access to app 'web-prod'"));
  REQUIRE(server.slipway({"pipelines:add", "web", "-a", "web-prod", "-s", "production"}).ok());
  CHECK(as_bob({"pipelines"}).output == "web\n");
  // In the pipeline he sees only his app.
  auto info = as_bob({"pipelines:info", "web", "--json"});
  INFO(info.output);
  REQUIRE(info.ok());
  CHECK(json::parse(info.output)["apps"].size() == 1);
  // Promoting needs access to every target: refused before anything happens.
  auto promoted = as_bob({"pipelines:promote", "-a", "web-stg"});
  CHECK_FALSE(promoted.ok());
  CHECK(contains(promoted.output, "key 'bob' has no access to app 'web-prod'"));
  CHECK_FALSE(fs::exists(server.root / "pipelines/promotions"));
  CHECK_FALSE(as_bob({"pipelines:destroy", "web"}).ok());
  CHECK_FALSE(as_bob({"pipelines:rename", "web", "www"}).ok());
  // A stage's gate binds every app of the stage: an admin's to change.
  auto ungated = as_bob({"pipelines:set", "web", "-s", "staging", "wait_for_ci=false"});
  CHECK_FALSE(ungated.ok());
  CHECK(contains(ungated.output, "'pipelines:set' needs an admin key"));
  CHECK_FALSE(as_bob({"apps:set", "-a", "web-stg", "promotion_only=false"}).ok());

  // An app is in one pipeline at most.
  auto twice = server.slipway({"pipelines:add", "hidden", "-a", "web-stg", "-s", "staging"});
  CHECK(contains(twice.output, "app 'web-stg' is in pipeline 'web' already"));
  // Malformed names and stages are named.
  CHECK(contains(server.slipway({"pipelines:create", "Bad_Name"}).output,
                 "invalid pipeline name 'Bad_Name'"));
  CHECK(contains(server.slipway({"pipelines:create", "web"}).output,
                 "pipeline 'web' already exists"));
  CHECK(contains(server.slipway({"pipelines:update", "-a", "web-stg", "-s", "qa"}).output,
                 "unknown stage 'qa' (use review, development, staging or production)"));
  CHECK(contains(server.slipway({"pipelines:promote", "-a", "web-prod"}).output,
                 "nothing is downstream of the production stage"));
  CHECK(
      contains(server.slipway({"pipelines:promote", "-a", "web-stg", "--to", "secret-app"}).output,
               "app 'secret-app' is not in pipeline 'web'"));
  CHECK(contains(server.slipway({"pipelines:promote", "-a", "web-stg", "--to", "web-stg"}).output,
                 "cannot promote 'web-stg' to itself"));
  CHECK(contains(server.slipway({"pipelines:promote", "-a", "web-stg"}).output,
                 "'web-stg' has no live release to promote"));
  CHECK(contains(server.slipway({"apps:set", "-a", "web-stg", "colour=blue"}).output,
                 "unknown app setting 'colour'"));

  // Destroying the pipeline uncouples its apps; they remain.
  REQUIRE(server.slipway({"pipelines:rename", "web", "www"}).ok());
  REQUIRE(server.slipway({"pipelines:destroy", "www"}).ok());
  CHECK(contains(server.slipway({"pipelines:diff", "-a", "web-stg"}).output,
                 "app 'web-stg' is not in a pipeline"));
  CHECK(server.slipway({"apps:info", "-a", "web-prod"}).ok());
  CHECK(server.slipway({"pipelines"}).output == "hidden\n");
}

} // namespace
} // namespace slipway::test
