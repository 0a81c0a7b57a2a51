// The official heroku CLI's webhooks:* commands against slipway's Platform API.
#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/api_harness.hpp"

namespace slipway::test {

TEST_CASE("heroku webhooks:add, webhooks, info, update, deliveries, events and remove work",
          "[api][webhooks]") {
  ApiServer api("[webhooks]\nallow_private = true\n");
  Server& server = api.server;
  server.create("shop");
  REQUIRE(server.slipway({"access:add", "bob", "-a", "shop"}).ok());
  std::string url = fmt::format("http://127.0.0.1:{}/hook", free_port()); // nobody answers

  auto added = api.heroku(
      {"webhooks:add", "-a", "shop", "-i", "api:release,api:build", "-l", "notify", "-u", url});
  INFO(added.output);
  REQUIRE(added.ok());
  CHECK(contains(added.output, "Webhooks Signing Secret"));
  auto listed = api.heroku({"webhooks", "-a", "shop"});
  INFO(listed.output);
  CHECK(contains(listed.output, url));
  auto webhooks = api.request("GET", "/apps/shop/webhooks", api.alice).json();
  REQUIRE(webhooks.size() == 1);
  std::string id = webhooks[0]["id"];
  CHECK_FALSE(webhooks[0].contains("secret"));

  auto updated = api.heroku(
      {"webhooks:update", "-a", "shop", id, "-i", "api:release", "-l", "notify", "-u", url});
  INFO(updated.output);
  CHECK(updated.ok());
  auto info = api.heroku({"webhooks:info", "-a", "shop", id});
  CHECK(contains(info.output, "api:release"));
  CHECK_FALSE(contains(info.output, "api:build"));

  REQUIRE(server.push("shop").ok());
  nlohmann::json deliveries;
  for (int i = 0; i < 100; ++i) {
    deliveries = api.request("GET", "/apps/shop/webhook-deliveries", api.alice).json();
    if (!deliveries.empty() && deliveries[0]["status"] == "failed") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE_FALSE(deliveries.empty());
  CHECK(deliveries[0]["status"] == "failed"); // notify: one attempt, and nobody answered
  CHECK(deliveries[0]["num_attempts"] == 1);
  auto listed_deliveries = api.heroku({"webhooks:deliveries", "-a", "shop"});
  INFO(listed_deliveries.output);
  CHECK(contains(listed_deliveries.output, deliveries[0]["id"].get<std::string>()));
  auto delivery_info = api.heroku(
      {"webhooks:deliveries:info", "-a", "shop", deliveries[0]["id"].get<std::string>()});
  INFO(delivery_info.output);
  CHECK(contains(delivery_info.output, "\"resource\": \"release\""));
  auto events = api.heroku({"webhooks:events", "-a", "shop"});
  CHECK(contains(events.output, "release"));

  // A collaborator may manage the app's webhooks; a key without access may not see them.
  CHECK(api.request("GET", "/apps/shop/webhooks", api.bob).status == 200);
  REQUIRE(server.slipway({"access:remove", "bob", "-a", "shop"}).ok());
  CHECK(api.request("GET", "/apps/shop/webhooks", api.bob).status == 403);

  auto removed = api.heroku({"webhooks:remove", "-a", "shop", id});
  INFO(removed.output);
  CHECK(removed.ok());
  CHECK(api.request("GET", "/apps/shop/webhooks", api.alice).json().empty());
}

} // namespace slipway::test
