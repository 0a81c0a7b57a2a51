// Pipelines through the Platform API: the official heroku CLI's pipelines:* commands (pinned,
// tests/tools/heroku) and raw requests with curl, checked against slipway's own view; a
// collaborator's refusals; malformed bodies; and a promotion that releases staging's slug on
// production with production's config.
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "common/random.hpp"
#include "tests/e2e/api_harness.hpp"

using namespace slipway;
using namespace slipway::test;
using nlohmann::json;

namespace {

// What the CLI printed (stdout and stderr, merged), with its error lines' "›" marks gone and
// runs of white space as one space: it wraps long messages at the terminal's width.
std::string flat(const std::string& output) {
  std::string out;
  for (std::size_t i = 0; i < output.size(); ++i) {
    if (output.compare(i, 3, "\u203a") == 0) {
      i += 2;
      continue;
    }
    bool space = std::isspace(static_cast<unsigned char>(output[i]));
    if (!space || (!out.empty() && out.back() != ' ')) {
      out.push_back(space ? ' ' : output[i]);
    }
  }
  return out;
}

std::string ok_output(const ExitStatus& result) {
  INFO(result.output);
  CHECK(result.ok());
  return result.output;
}

json slipway_json(const ApiServer& api, std::vector<std::string> args) {
  args.push_back("--json");
  auto result = api.server.slipway(args);
  INFO(result.output);
  REQUIRE(result.ok());
  return json::parse(result.output.substr(result.output.find_first_of("[{")));
}

// The names of the apps `slipway pipelines:info` shows, with their stages: "app:stage ...".
std::string members(const ApiServer& api, const std::string& pipeline) {
  std::string out;
  auto info = slipway_json(api, {"pipelines:info", pipeline});
  for (const auto& app : info["apps"]) {
    out += app["name"].get<std::string>() + ":" + app["stage"].get<std::string>() + " ";
  }
  return out;
}

std::vector<std::string> pipeline_names(const ApiServer& api) {
  std::vector<std::string> names;
  for (const auto& pipeline : slipway_json(api, {"pipelines"})) {
    names.push_back(pipeline["name"]);
  }
  return names;
}

// A request that must answer `status`; its JSON.
json expect(const ApiResponse& response, int status) {
  INFO(response.status << " " << response.body);
  CHECK(response.status == status);
  return response.json();
}

// An error answer: its status, Heroku's error id, and a message that contains `words`.
void refused(const ApiResponse& response, int status, const std::string& id,
             const std::string& words) {
  INFO(response.status << " " << response.body);
  CHECK(response.status == status);
  auto body = response.json();
  REQUIRE(body.is_object());
  CHECK(body["id"] == id);
  CHECK(contains(body.value("message", ""), words));
}

std::string app_id(const ApiServer& api, const std::string& app) {
  return api.request("GET", "/apps/" + app, api.alice).json()["id"];
}

} // namespace

TEST_CASE("the heroku CLI creates, lists, shows, updates, renames and destroys pipelines as "
          "slipway sees them",
          "[api][heroku][pipelines]") {
  ApiServer api;
  for (const auto* app : {"shop-staging", "shop-prod", "loner"}) {
    REQUIRE(api.server.slipway({"apps:create", app}).ok());
  }

  CHECK(contains(ok_output(api.heroku(
                     {"pipelines:create", "shop", "-a", "shop-staging", "--stage", "staging"})),
                 "Adding shop-staging to shop pipeline as staging"));
  CHECK(pipeline_names(api) == std::vector<std::string>{"shop"});
  CHECK(members(api, "shop") == "shop-staging:staging ");
  CHECK(contains(
      ok_output(api.heroku({"pipelines:add", "shop", "-a", "shop-prod", "--stage", "production"})),
      "Adding shop-prod to shop pipeline as production"));
  CHECK(members(api, "shop") == "shop-staging:staging shop-prod:production ");

  CHECK(contains(ok_output(api.heroku({"pipelines"})), "shop"));
  auto info = ok_output(api.heroku({"pipelines:info", "shop"}));
  CHECK(contains(info, "=== shop"));
  CHECK(contains(info, "owner: alice@localhost"));
  CHECK(contains(info, "shop-staging"));
  CHECK(contains(info, "shop-prod"));
  CHECK(contains(info, "production"));
  CHECK_FALSE(contains(info, "do not belong")); // the pipeline's owner is its apps' owner
  auto info_json = ok_output(api.heroku({"pipelines:info", "shop", "--json"}));
  auto parsed = json::parse(info_json.substr(info_json.find('{')));
  CHECK(parsed["pipeline"]["name"] == "shop");
  CHECK(parsed["pipeline"]["generation"]["name"] == "cedar");
  REQUIRE(parsed["apps"].size() == 2);
  for (const auto& app : parsed["apps"]) {
    CHECK(app["pipelineCoupling"]["stage"] ==
          (app["name"] == "shop-prod" ? "production" : "staging"));
  }

  // apps:info names the pipeline, and takes an app in none as it is.
  CHECK(contains(ok_output(api.heroku({"apps:info", "-a", "shop-prod"})), "shop - production"));
  CHECK_FALSE(contains(ok_output(api.heroku({"apps:info", "-a", "loner"})), "Pipeline"));

  CHECK(contains(
      ok_output(api.heroku({"pipelines:update", "-a", "shop-prod", "--stage", "development"})),
      "Changing shop-prod to development"));
  CHECK(members(api, "shop") == "shop-prod:development shop-staging:staging ");

  CHECK(contains(ok_output(api.heroku({"pipelines:rename", "shop", "store"})),
                 "Renaming shop pipeline to store"));
  CHECK(pipeline_names(api) == std::vector<std::string>{"store"});
  auto missing = api.heroku({"pipelines:info", "shop"});
  CHECK_FALSE(missing.ok());
  CHECK(contains(flat(missing.output), "Pipeline not found"));

  CHECK(contains(ok_output(api.heroku({"pipelines:remove", "-a", "shop-prod"})),
                 "Removing shop-prod"));
  CHECK(members(api, "store") == "shop-staging:staging ");
  auto not_in = api.heroku({"pipelines:remove", "-a", "shop-prod"});
  CHECK_FALSE(not_in.ok());
  CHECK(contains(flat(not_in.output), "app 'shop-prod' is not in a pipeline"));

  CHECK(
      contains(ok_output(api.heroku({"pipelines:destroy", "store"})), "Destroying store pipeline"));
  CHECK(pipeline_names(api).empty());
  // Its apps stay, in no pipeline.
  CHECK(slipway_json(api, {"apps:info", "-a", "shop-staging"})["name"] == "shop-staging");
  CHECK(api.request("GET", "/apps/shop-staging/pipeline-couplings", api.alice).status == 404);
}

TEST_CASE("the pipeline API's resources by raw requests: shapes, filters, pages, couplings, "
          "promotion_only, and malformed bodies refused with what is wrong",
          "[api][pipelines]") {
  ApiServer api;
  for (const auto* app : {"web-stg", "web-prod", "loner"}) {
    REQUIRE(api.server.slipway({"apps:create", app}).ok());
  }
  std::string stg_id = app_id(api, "web-stg");
  std::string prod_id = app_id(api, "web-prod");

  // A pipeline, as Heroku shapes it; its owner is the account /account and /users/~ give.
  auto account = expect(api.request("GET", "/users/~", api.alice), 200);
  CHECK(account == expect(api.request("GET", "/account", api.alice), 200));
  auto web = expect(api.request("POST", "/pipelines", api.alice,
                                json{{"name", "web"},
                                     {"owner", {{"id", account["id"]}, {"type", "user"}}},
                                     {"generation", {{"name", "cedar"}}}}
                                    .dump()),
                    201);
  std::string id = web["id"];
  CHECK(is_uuid(id));
  CHECK(web["name"] == "web");
  CHECK(web["owner"] == json{{"id", account["id"]}, {"type", "user"}});
  CHECK(web["generation"]["name"] == "cedar");
  CHECK(is_uuid(web["generation"]["id"].get<std::string>()));
  CHECK(contains(web["created_at"].get<std::string>(), "T"));
  CHECK(pipeline_names(api) == std::vector<std::string>{"web"});
  CHECK(expect(api.request("GET", "/pipelines/" + id, api.alice), 200) == web);
  CHECK(expect(api.request("GET", "/pipelines/web", api.alice), 200) == web);

  // eq[name] filters; Range pages by name.
  REQUIRE(api.request("POST", "/pipelines", api.alice, R"({"name":"api"})").status == 201);
  auto filtered = expect(api.request("GET", "/pipelines?eq%5Bname%5D=web", api.alice), 200);
  REQUIRE(filtered.size() == 1);
  CHECK(filtered[0]["id"] == id);
  CHECK(expect(api.request("GET", "/pipelines?eq%5Bname%5D=nope", api.alice), 200) ==
        json::array());
  auto first = api.request("GET", "/pipelines", api.alice, "", {"Range: name ..; max=1"});
  CHECK(first.status == 206);
  CHECK(first.json()[0]["name"] == "api");
  REQUIRE_FALSE(first.header("next-range").empty());
  auto second =
      api.request("GET", "/pipelines", api.alice, "", {"Range: " + first.header("next-range")});
  CHECK(second.status == 200);
  REQUIRE(second.json().size() == 1);
  CHECK(second.json()[0]["name"] == "web");

  // Couplings: by app name or id; the pipeline by id.
  auto stg =
      expect(api.request("POST", "/pipeline-couplings", api.alice,
                         json{{"app", "web-stg"}, {"pipeline", id}, {"stage", "staging"}}.dump()),
             201);
  CHECK(is_uuid(stg["id"].get<std::string>()));
  CHECK(stg["app"]["id"] == stg_id);
  CHECK(stg["pipeline"]["id"] == id);
  CHECK(stg["stage"] == "staging");
  auto prod = expect(
      api.request(
          "POST", "/pipeline-couplings", api.alice,
          json{{"app", prod_id}, {"pipeline", {{"id", id}}}, {"stage", "production"}}.dump()),
      201);
  CHECK(members(api, "web") == "web-stg:staging web-prod:production ");
  CHECK(expect(api.request("GET", "/pipelines/" + id + "/pipeline-couplings", api.alice), 200)
            .size() == 2);
  CHECK(expect(api.request("GET", "/pipeline-couplings", api.alice), 200).size() == 2);
  CHECK(expect(api.request("GET", "/pipeline-couplings/" + stg["id"].get<std::string>(), api.alice),
               200) == stg);
  auto of_app = expect(api.request("GET", "/apps/web-stg/pipeline-couplings", api.alice), 200);
  CHECK(of_app["id"] == stg["id"]);
  CHECK(of_app["pipeline"]["name"] == "web");
  refused(api.request("GET", "/apps/loner/pipeline-couplings", api.alice), 404, "not_found",
          "app 'loner' is not in a pipeline");
  auto again = api.request("POST", "/pipeline-couplings", api.alice,
                           json{{"app", "web-stg"}, {"pipeline", id}, {"stage", "staging"}}.dump());
  refused(again, 409, "conflict", "already in pipeline 'web'");

  // The apps of a list of ids: those that exist (and the actor may use).
  auto apps = expect(
      api.request("POST", "/filters/apps", api.alice,
                  json{{"in", {{"id", {stg_id, prod_id, derived_uuid(stg_id, "none")}}}}}.dump(),
                  {"Range: id ..; max=1000;"}),
      200);
  REQUIRE(apps.size() == 2);
  std::set<std::string> names = {apps[0]["name"], apps[1]["name"]};
  CHECK(names == std::set<std::string>{"web-stg", "web-prod"});

  auto moved = expect(api.request("PATCH", "/pipeline-couplings/" + prod["id"].get<std::string>(),
                                  api.alice, R"({"stage":"development"})"),
                      200);
  CHECK(moved["stage"] == "development");
  CHECK(members(api, "web") == "web-prod:development web-stg:staging ");
  REQUIRE(api.request("PATCH", "/pipeline-couplings/" + prod["id"].get<std::string>(), api.alice,
                      R"({"stage":"production"})")
              .status == 200);

  // promotion_only, through the app's PATCH (which still takes what it took).
  auto only =
      expect(api.request("PATCH", "/apps/web-prod", api.alice, R"({"promotion_only":true})"), 200);
  CHECK(only["promotion_only"] == true);
  CHECK(only["name"] == "web-prod");
  CHECK(slipway_json(api, {"pipelines:info", "web"})["apps"][1]["promotion_only"] == true);
  refused(api.request("PATCH", "/apps/web-stg", api.alice, R"({"promotion_only":true})"), 422,
          "invalid_params", "promotion_only is for the production apps of a pipeline");
  refused(api.request("PATCH", "/apps/web-prod", api.alice, R"({"promotion_only":"yes"})"), 422,
          "invalid_params", "'promotion_only' must be true or false");
  auto both = expect(api.request("PATCH", "/apps/web-prod", api.alice,
                                 R"({"promotion_only":false,"maintenance":true})"),
                     200);
  CHECK(both["promotion_only"] == false);
  CHECK(both["maintenance"] == true);
  CHECK(expect(api.request("PATCH", "/apps/web-prod", api.alice, R"({"maintenance":false})"),
               200)["maintenance"] == false);

  // Malformed requests: a 4xx that says what is wrong.
  refused(api.request("POST", "/pipeline-couplings", api.alice,
                      json{{"app", "loner"}, {"pipeline", id}}.dump()),
          422, "invalid_params", "'stage' is required");
  refused(api.request("POST", "/pipeline-couplings", api.alice,
                      json{{"app", "loner"}, {"pipeline", id}, {"stage", "qa"}}.dump()),
          422, "invalid_params", "unknown stage 'qa'");
  refused(api.request("POST", "/pipeline-couplings", api.alice,
                      json{{"app", "loner"}, {"stage", "staging"}}.dump()),
          422, "invalid_params", "'pipeline' is required");
  refused(
      api.request("POST", "/pipeline-couplings", api.alice,
                  json{{"app", "loner"}, {"pipeline", "not-a-uuid"}, {"stage", "staging"}}.dump()),
      404, "not_found", "pipeline 'not-a-uuid' does not exist");
  refused(api.request("POST", "/pipeline-couplings", api.alice,
                      json{{"app", 7}, {"pipeline", id}, {"stage", "staging"}}.dump()),
          422, "invalid_params", "'app' must be an id or a name");
  refused(api.request("PATCH", "/pipeline-couplings/" + stg["id"].get<std::string>(), api.alice,
                      R"({"stage":"prod"})"),
          422, "invalid_params", "unknown stage 'prod'");
  refused(api.request("GET", "/pipeline-couplings/not-a-uuid", api.alice), 404, "not_found",
          "pipeline coupling 'not-a-uuid' does not exist");
  refused(api.request("GET", "/pipeline-promotions/not-a-uuid", api.alice), 404, "not_found",
          "promotion 'not-a-uuid' does not exist");
  refused(api.request("GET", "/pipelines/" + derived_uuid(id, "none"), api.alice), 404, "not_found",
          "does not exist");
  refused(api.request("POST", "/pipelines", api.alice, R"({"name":"Bad Name!"})"), 422,
          "invalid_params", "invalid pipeline name 'Bad Name!'");
  refused(api.request("POST", "/pipelines", api.alice, "{}"), 422, "invalid_params",
          "'name' is required");
  refused(api.request("POST", "/pipelines", api.alice, "{\"name\":"), 422, "invalid_params",
          "not valid JSON");
  refused(api.request("POST", "/pipelines", api.alice,
                      R"({"name":"teamed","owner":{"id":"x","type":"team"}})"),
          422, "invalid_params", "no teams");
  refused(api.request("POST", "/pipelines", api.alice, R"({"name":"web"})"), 409, "conflict",
          "pipeline 'web' already exists");
  refused(api.request("PATCH", "/pipelines/" + id, api.alice, R"({"name":"Web"})"), 422,
          "invalid_params", "invalid pipeline name 'Web'");
  refused(api.request("PATCH", "/pipelines/" + id, api.alice, R"({"owner":"x"})"), 422,
          "invalid_params", "cannot change 'owner' of a pipeline");
  refused(api.request("POST", "/pipeline-promotions", api.alice, "{}"), 422, "invalid_params",
          "'source' is required");
  refused(api.request("POST", "/pipeline-promotions", api.alice,
                      json{{"pipeline", {{"id", id}}},
                           {"source", {{"app", {{"id", stg_id}}}}},
                           {"targets", "web-prod"}}
                          .dump()),
          422, "invalid_params", "'targets' must be a list");
  // Nothing was built yet: nothing to promote.
  refused(api.request("POST", "/pipeline-promotions", api.alice,
                      json{{"pipeline", {{"id", id}}},
                           {"source", {{"app", {{"id", stg_id}}}}},
                           {"targets", {{{"app", {{"id", prod_id}}}}}}}
                          .dump()),
          422, "failed", "'web-stg' has no live release to promote");
  refused(api.request("POST", "/filters/apps", api.alice, R"({"in":{}})"), 422, "invalid_params",
          "the filter must be");

  auto renamed =
      expect(api.request("PATCH", "/pipelines/" + id, api.alice, R"({"name":"site"})"), 200);
  CHECK(renamed["name"] == "site");
  CHECK(renamed["id"] == id);

  auto removed = expect(
      api.request("DELETE", "/pipeline-couplings/" + stg["id"].get<std::string>(), api.alice), 200);
  CHECK(removed["app"]["id"] == stg_id);
  CHECK(api.request("GET", "/apps/web-stg/pipeline-couplings", api.alice).status == 404);
  CHECK(members(api, "site") == "web-prod:production ");

  auto destroyed = expect(api.request("DELETE", "/pipelines/" + id, api.alice), 200);
  CHECK(destroyed["name"] == "site");
  CHECK(api.request("GET", "/pipelines/" + id, api.alice).status == 404);
  CHECK(pipeline_names(api) == std::vector<std::string>{"api"});
  CHECK(api.request("GET", "/apps/web-prod/pipeline-couplings", api.alice).status == 404);
}

TEST_CASE("a collaborator sees only the pipelines of its apps, and cannot make, change or "
          "destroy pipelines or promote to an app it has no access to",
          "[api][heroku][pipelines]") {
  ApiServer api;
  for (const auto* app : {"mine-stg", "theirs-prod", "hidden"}) {
    REQUIRE(api.server.slipway({"apps:create", app}).ok());
  }
  REQUIRE(api.server.slipway({"access:add", "-a", "mine-stg", "bob"}).ok());
  REQUIRE(api.server.slipway({"pipelines:create", "shared", "-a", "mine-stg", "--stage", "staging"})
              .ok());
  REQUIRE(
      api.server.slipway({"pipelines:add", "shared", "-a", "theirs-prod", "--stage", "production"})
          .ok());
  REQUIRE(api.server.slipway({"pipelines:create", "secret", "-a", "hidden", "--stage", "staging"})
              .ok());
  std::string shared = api.request("GET", "/pipelines/shared", api.alice).json()["id"];
  std::string secret = api.request("GET", "/pipelines/secret", api.alice).json()["id"];

  // An admin's operations: refused as ssh refuses them.
  auto create = api.request("POST", "/pipelines", api.bob, R"({"name":"mine"})");
  auto create_ssh = api.as_key("bob", {"pipelines:create", "mine"});
  refused(create, 403, "forbidden", "'pipelines:create' needs an admin key");
  CHECK(contains(create_ssh.output, create.json()["message"].get<std::string>()));
  refused(api.request("DELETE", "/pipelines/" + shared, api.bob), 403, "forbidden",
          "'pipelines:destroy' needs an admin key");
  refused(api.request("PATCH", "/pipelines/" + shared, api.bob, R"({"name":"renamed"})"), 403,
          "forbidden", "'pipelines:rename' needs an admin key");
  CHECK(pipeline_names(api) == std::vector<std::string>{"secret", "shared"});
  auto by_cli = api.heroku({"pipelines:destroy", "shared"}, api.bob);
  CHECK_FALSE(by_cli.ok());
  CHECK(contains(flat(by_cli.output), "needs an admin key"));

  // Only the pipelines with an app of its own, and in them only its apps.
  auto listed = expect(api.request("GET", "/pipelines", api.bob), 200);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["name"] == "shared");
  refused(api.request("GET", "/pipelines/" + secret, api.bob), 404, "not_found", "does not exist");
  refused(api.request("GET", "/pipelines/secret", api.bob), 404, "not_found",
          "pipeline 'secret' does not exist");
  CHECK(expect(api.request("GET", "/pipelines?eq%5Bname%5D=secret", api.bob), 200) ==
        json::array());
  refused(api.request("GET", "/pipelines/" + secret + "/pipeline-couplings", api.bob), 404,
          "not_found", "does not exist");
  auto couplings =
      expect(api.request("GET", "/pipelines/" + shared + "/pipeline-couplings", api.bob), 200);
  REQUIRE(couplings.size() == 1);
  CHECK(couplings[0]["app"]["id"] == app_id(api, "mine-stg"));
  CHECK(expect(api.request("GET", "/pipeline-couplings", api.bob), 200).size() == 1);
  auto filtered = expect(
      api.request(
          "POST", "/filters/apps", api.bob,
          json{{"in", {{"id", {app_id(api, "mine-stg"), app_id(api, "theirs-prod")}}}}}.dump()),
      200);
  REQUIRE(filtered.size() == 1);
  CHECK(filtered[0]["name"] == "mine-stg");
  auto hidden = api.heroku({"pipelines:info", "secret"}, api.bob);
  CHECK_FALSE(hidden.ok());
  CHECK(contains(flat(hidden.output), "Pipeline not found"));
  auto info = ok_output(api.heroku({"pipelines:info", "shared"}, api.bob));
  CHECK(contains(info, "mine-stg"));
  CHECK_FALSE(contains(info, "theirs-prod"));

  // Promoting to an app it has no access to: refused before anything is recorded, whether
  // the target is named or is the next stage's.
  auto promote = [&](const json& targets) {
    json body = {{"pipeline", {{"id", shared}}},
                 {"source", {{"app", {{"id", app_id(api, "mine-stg")}}}}}};
    if (!targets.is_null()) {
      body["targets"] = targets;
    }
    return api.request("POST", "/pipeline-promotions", api.bob, body.dump());
  };
  refused(promote(json::array({{{"app", {{"name", "theirs-prod"}}}}})), 403, "forbidden",
          "key 'bob' has no access to app 'theirs-prod'");
  refused(promote(nullptr), 403, "forbidden", "key 'bob' has no access to app 'theirs-prod'");
  // By id, an app it cannot use is one it cannot see.
  refused(promote(json::array({{{"app", {{"id", app_id(api, "theirs-prod")}}}}})), 404, "not_found",
          "no app has the id");
  // Nor from an app of another's pipeline.
  refused(api.request("POST", "/pipeline-promotions", api.bob,
                      json{{"source", {{"app", {{"name", "hidden"}}}}}}.dump()),
          403, "forbidden", "key 'bob' has no access to app 'hidden'");
  fs::path promotions = api.server.root / "pipelines" / "promotions";
  bool none_recorded = !fs::exists(promotions) || fs::is_empty(promotions);
  CHECK(none_recorded);
  // The CLI, seeing only bob's apps, finds nothing downstream.
  auto cli_promote = api.heroku({"pipelines:promote", "-a", "mine-stg"}, api.bob);
  CHECK_FALSE(cli_promote.ok());
  CHECK(contains(flat(cli_promote.output), "no downstream apps in production stage"));
}

TEST_CASE("heroku pipelines:promote releases staging's slug on production, which runs it with "
          "its own config, and a promotion made by request is polled to its end",
          "[api][heroku][pipelines]") {
  ApiServer api;
  // tests/fixtures/apps/stage answers "<version.txt> <STAGE_NAME>": which code runs with which
  // app's config.
  api.server.create("web-staging", fixture("apps/stage"));
  REQUIRE(api.server.slipway({"config:set", "-a", "web-staging", "STAGE_NAME=staging"}).ok());
  REQUIRE(api.server.push("web-staging").ok());
  REQUIRE(api.server.serves("web-staging", "v0 staging"));
  REQUIRE(api.server.slipway({"apps:create", "web-prod"}).ok());
  REQUIRE(api.server.slipway({"config:set", "-a", "web-prod", "STAGE_NAME=production"}).ok());

  REQUIRE(contains(
      ok_output(api.heroku({"pipelines:create", "web", "-a", "web-staging", "--stage", "staging"})),
      "Adding web-staging to web pipeline as staging... done"));
  REQUIRE(contains(
      ok_output(api.heroku({"pipelines:add", "web", "-a", "web-prod", "--stage", "production"})),
      "Adding web-prod to web pipeline as production... done"));

  auto promoted_status = api.heroku({"pipelines:promote", "-a", "web-staging"});
  if (!promoted_status.ok()) {
    // The promotion's record, as its runner (a process of its own) left it.
    fs::path records = api.server.root / "pipelines" / "promotions";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(records, ec)) {
      if (entry.path().extension() == ".toml") {
        UNSCOPED_INFO(entry.path().filename().string() << ":\n" << read_text(entry.path()));
      }
    }
    UNSCOPED_INFO("daemon log:\n" << api.server.daemon.log());
  }
  auto promoted = ok_output(promoted_status);
  CHECK(contains(promoted, "Starting promotion to production"));
  CHECK(contains(promoted, "Promotion successful"));
  CHECK(contains(promoted, "web-prod"));
  CHECK(contains(promoted, "succeeded"));

  auto source = slipway_json(api, {"releases:info", "-a", "web-staging"});
  auto live = slipway_json(api, {"releases:info", "-a", "web-prod"});
  CHECK(live["slug"] == source["slug"]);
  CHECK(live["commit"] == source["commit"]);
  CHECK(live["live"] == true);
  CHECK(live["description"].get<std::string>().starts_with(
      fmt::format("Promote web-staging v{}", source["version"].get<int>())));
  CHECK(live["promoted_from"]["app"] == "web-staging");
  CHECK(api.server.serves("web-prod", "v0 production"));
  CHECK(api.server.serves("web-staging", "v0 staging"));

  // The same by request: answered at once, pending; its targets polled until they end.
  std::string prod_id = app_id(api, "web-prod");
  std::string staging_id = app_id(api, "web-staging");
  std::string pipeline = api.request("GET", "/pipelines/web", api.alice).json()["id"];
  auto started = expect(api.request("POST", "/pipeline-promotions", api.alice,
                                    json{{"pipeline", {{"id", pipeline}}},
                                         {"source", {{"app", {{"id", staging_id}}}}},
                                         {"targets", {{{"app", {{"id", prod_id}}}}}}}
                                        .dump()),
                        201);
  std::string id = started["id"];
  CHECK(is_uuid(id));
  CHECK(started["pipeline"]["id"] == pipeline);
  CHECK(started["source"]["app"]["id"] == staging_id);
  CHECK(started["source"]["release"]["id"] ==
        derived_uuid(staging_id, fmt::format("release {}", source["version"].get<int>())));
  CHECK(started["status"] == "pending");
  json targets;
  for (int i = 0; i < 120; ++i) {
    targets = expect(
        api.request("GET", "/pipeline-promotions/" + id + "/promotion-targets", api.alice), 200);
    if (targets.size() == 1 && targets[0]["status"] != "pending") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  REQUIRE(targets.size() == 1);
  INFO(targets.dump());
  CHECK(targets[0]["status"] == "succeeded");
  CHECK(targets[0]["error_message"].is_null());
  CHECK(targets[0]["app"]["id"] == prod_id);
  CHECK(targets[0]["pipeline_promotion"]["id"] == id);
  auto release = expect(api.request("GET",
                                    "/apps/" + prod_id + "/releases/" +
                                        targets[0]["release"]["id"].get<std::string>(),
                                    api.alice),
                        200);
  CHECK(release["current"] == true);
  CHECK(contains(release["description"].get<std::string>(), "Promote web-staging v"));
  CHECK(release["version"] == slipway_json(api, {"releases:info", "-a", "web-prod"})["version"]);
  CHECK(expect(api.request("GET", "/pipeline-promotions/" + id, api.alice), 200)["status"] ==
        "completed");
  CHECK(api.server.serves("web-prod", "v0 production"));
}
