// Review apps through the Platform API: the heroku CLI's reviewapps:enable and :disable
// (which ask for the pipeline's repository here, never GitHub), the review-app config in
// Heroku's shape, a pipeline's review apps, one by its id or its app, one made from a branch
// and one destroyed; a collaborator without the parent and malformed bodies are refused.
#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/api_harness.hpp"

namespace slipway::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ok_output(const ExitStatus& result) {
  INFO(result.output);
  CHECK(result.ok());
  return result.output;
}

TEST_CASE("the heroku CLI enables and disables review apps, and the API lists, shows, makes and "
          "destroys them",
          "[api][heroku][review]") {
  ApiServer api;
  Server& server = api.server;
  server.create("shop-dev");
  REQUIRE(server.push("shop-dev").ok());
  REQUIRE(server.slipway({"pipelines:create", "shop", "-a", "shop-dev", "-s", "development"}).ok());
  auto pipeline_id = json::parse(server.slipway({"pipelines", "--json"}).output)[0]["id"];

  ok_output(api.heroku({"reviewapps:enable", "-p", "shop", "--autodeploy", "--autodestroy"}));
  auto config = api.request("GET", "/pipelines/shop/review-app-config", api.alice);
  REQUIRE(config.status == 200);
  CHECK(config.json()["automatic_review_apps"] == true);
  CHECK(config.json()["destroy_stale_apps"] == true);
  CHECK(config.json()["wait_for_ci"] == false);
  CHECK(config.json()["pipeline_id"] == pipeline_id);

  // A pushed branch appears as a review app, by the pipeline, by its id and by its app.
  server.git("shop-dev", {"checkout", "-q", "-b", "topic"});
  server.write("shop-dev", "www/index.html", "topic branch\n");
  server.commit("shop-dev", "topic");
  auto pushed =
      server.run({"git", "push", "-q", (server.root / "repos/shop-dev.git").string(), "topic"},
                 server.work("shop-dev"));
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  CHECK(server.serves("shop-topic", "topic branch"));
  auto listed = api.request("GET", "/pipelines/shop/review-apps", api.alice);
  REQUIRE(listed.status == 200);
  REQUIRE(listed.json().size() == 1);
  json review = listed.json()[0];
  CHECK(review["branch"] == "topic");
  CHECK(review["status"] == "created");
  CHECK(review["app"]["name"] == "shop-topic");
  CHECK(review["pipeline"]["id"] == pipeline_id);
  std::string id = review["id"];
  CHECK(api.request("GET", "/review-apps/" + id, api.alice).json()["branch"] == "topic");
  CHECK(api.request("GET", "/apps/shop-topic/review-app", api.alice).json()["id"] == id);
  CHECK(api.request("GET", "/apps/shop-dev/review-app", api.alice).status == 404);

  // A collaborator without the parent sees none of it and may not make one.
  CHECK(api.request("GET", "/review-apps/" + id, api.bob).status != 200);
  auto refused =
      api.request("POST", "/review-apps", api.bob,
                  R"({"branch": "topic", "pipeline": ")" + pipeline_id.get<std::string>() + "\"}");
  CHECK(refused.status >= 400);

  // Destroyed through the API: the app is gone.
  auto destroyed = api.request("DELETE", "/review-apps/" + id, api.alice);
  CHECK(destroyed.status == 200);
  CHECK(destroyed.json()["status"] == "deleted");
  CHECK_FALSE(fs::exists(server.root / "apps/shop-topic"));

  // Made again by the heroku CLI: the branch is asked for, then the review app made at once
  // and deployed in the background.
  auto missing = api.heroku({"reviewapps:create", "-p", "shop", "--branch", "no-such"});
  CHECK_FALSE(missing.ok());
  CHECK(contains(missing.output, "doesn't exist"));
  auto created = ok_output(api.heroku({"reviewapps:create", "-p", "shop", "--branch", "topic"}));
  CHECK(contains(created, "heroku reviewapps:wait shop-topic"));
  CHECK(server.serves("shop-topic", "topic branch"));
  ok_output(api.heroku({"reviewapps:wait", "shop-topic", "--wait-interval", "1"}));
  CHECK(api.request("GET", "/apps/shop-topic/review-app", api.alice).json()["status"] == "created");
  // The raw request answers at once, with the app.
  auto made =
      api.request("POST", "/review-apps", api.alice,
                  R"({"branch": "topic", "pipeline": "shop", "source_blob": {"url": "x"}})");
  INFO(made.body);
  CHECK(made.status == 201);
  CHECK(made.json()["app"]["name"] == "shop-topic");

  // Malformed bodies name the problem.
  auto bad = api.request("PATCH", "/pipelines/shop/review-app-config", api.alice,
                         R"({"stale_days": "soon"})");
  CHECK(bad.status == 422);
  CHECK(contains(bad.body, "'stale_days' must be a whole number"));
  bad = api.request("PATCH", "/pipelines/shop/review-app-config", api.alice, R"({"colour": 1})");
  CHECK(bad.status == 422);
  CHECK(contains(bad.body, "unknown member 'colour'"));
  bad = api.request("POST", "/review-apps", api.alice, R"({"branch": "topic"})");
  CHECK(bad.status == 422);
  CHECK(api.request("GET", "/account/features/other", api.alice).status == 404);
  CHECK(
      api.request("PATCH", "/pipelines/shop/review-app-config", api.bob, R"({"wait_for_ci": true})")
          .status == 404); // a pipeline of none of its apps is not there for bob

  // Disabled by the heroku CLI (no flags: DELETE), and the config is gone.
  ok_output(api.heroku({"reviewapps:disable", "-p", "shop"}));
  CHECK(api.request("GET", "/pipelines/shop/review-app-config", api.alice).status == 404);
}

} // namespace
} // namespace slipway::test
