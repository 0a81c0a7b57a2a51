#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "common/files.hpp"
#include "common/hash.hpp"
#include "notify/webhooks.hpp"
#include "runtime/webhooks.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using test::TempDir;

TEST_CASE("a webhook's entities, level, format and URL are checked, naming what is wrong",
          "[webhooks]") {
  auto include = parse_webhook_include(" api:release , api:build,api:release");
  REQUIRE(include);
  CHECK(*include == std::vector<std::string>{"api:release", "api:build"});
  CHECK(contains(parse_webhook_include("api:release,api:nope").error().message,
                 "unknown entity 'api:nope'"));
  CHECK_FALSE(parse_webhook_include(" , "));
  CHECK(parse_webhook_level("sync"));
  CHECK(contains(parse_webhook_level("often").error().message, "notify"));
  CHECK(parse_webhook_format("discord"));
  CHECK_FALSE(parse_webhook_format("teams"));

  CHECK(validate_webhook_url("https://hooks.example.com/x?y=1"));
  CHECK(validate_webhook_url("http://[::1]:8080/x"));
  CHECK(contains(validate_webhook_url("https://u:p@example.com/").error().message, "-t"));
  CHECK_FALSE(validate_webhook_url("file:///etc/passwd"));
  CHECK_FALSE(validate_webhook_url("gopher://example.com/"));
  CHECK_FALSE(validate_webhook_url("https:///nohost"));
  CHECK_FALSE(validate_webhook_url("https://example.com/a b"));
  CHECK(webhook_url_host("http://[::1]:8080/x") == "::1");
  CHECK(webhook_url_host("https://example.com:99/x") == "example.com");
}

TEST_CASE("webhooks round-trip 0600 and a damaged file is named", "[webhooks]") {
  TempDir dir;
  Layout layout(dir.path());
  std::filesystem::create_directories(layout.app_dir("shop"));
  CHECK(load_webhooks(layout, {.app = "shop"})->empty());
  Webhook webhook{.id = "0b9c1f4e-0000-4000-8000-000000000001",
                  .url = "https://example.com/hook",
                  .include = {"api:release", "dyno"},
                  .level = WebhookLevel::sync,
                  .secret = "s3cret",
                  .authorization = "Bearer x",
                  .format = WebhookFormat::slack,
                  .after_event = 41};
  REQUIRE(save_webhooks(layout, {.app = "shop"}, {webhook}));
  struct stat info {};
  REQUIRE(::stat((layout.app_dir("shop") / "webhooks.toml").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  auto loaded = load_webhooks(layout, {.app = "shop"});
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 1);
  CHECK((*loaded)[0].include == webhook.include);
  CHECK((*loaded)[0].format == WebhookFormat::slack);
  CHECK((*loaded)[0].after_event == 41);
  const std::string text = read_file(layout.app_dir("shop") / "webhooks.toml").value();
  auto field = text.find("after_event = 41");
  REQUIRE(field != std::string::npos);
  auto negative = std::string(text).replace(field, 16, "after_event = -1");
  test::write_file(layout.app_dir("shop") / "webhooks.toml", negative);
  auto refused = load_webhooks(layout, {.app = "shop"});
  REQUIRE_FALSE(refused);
  CHECK(contains(refused.error().message, "after_event must be an event id"));
  // A file written before the field was: the webhook is told of every event.
  auto older = std::string(text).replace(field, 16, "");
  test::write_file(layout.app_dir("shop") / "webhooks.toml", older);
  REQUIRE(load_webhooks(layout, {.app = "shop"}));
  CHECK(load_webhooks(layout, {.app = "shop"})->at(0).after_event == 0);
  test::write_file(layout.app_dir("shop") / "webhooks.toml", "[[webhook]]\nid = \"x\"\n");
  auto damaged = load_webhooks(layout, {.app = "shop"});
  REQUIRE_FALSE(damaged);
  CHECK(contains(damaged.error().message, "webhooks.toml"));
}

TEST_CASE("a webhook is told only of events after it was made, even by a stream begun again",
          "[webhooks]") {
  auto made = std::chrono::sys_seconds(std::chrono::seconds(1'800'000'000));
  Webhook webhook{.id = "w", .created_at = made, .after_event = 7};
  CHECK(predates(webhook, 7, made + std::chrono::milliseconds(900))); // same second, before
  CHECK(predates(webhook, 3, made - std::chrono::hours(1)));
  CHECK_FALSE(predates(webhook, 8, made));
  // The stream's files were removed and it numbers from 1 again.
  CHECK_FALSE(predates(webhook, 2, made + std::chrono::minutes(5)));
}

TEST_CASE("events map to Heroku's entities and actions, and a delivery is signed over its exact "
          "body",
          "[webhooks]") {
  auto entity = [](const std::string& resource, const std::string& action) {
    return notify::webhook_entity_of({.app = "shop", .resource = resource, .action = action});
  };
  CHECK(entity("release", "created")->entity == "api:release");
  CHECK(entity("release", "created")->action == "create");
  CHECK(entity("build", "succeeded")->action == "update");
  CHECK(entity("domain", "removed")->action == "destroy");
  CHECK(entity("access", "granted")->entity == "api:collaborator");
  CHECK(entity("dyno", "crashed")->entity == "dyno");
  CHECK(entity("review-app", "destroyed")->action == "destroy");
  CHECK_FALSE(entity("config", "changed"));
  CHECK_FALSE(entity("key", "added"));
  CHECK_FALSE(notify::webhook_entity_of({.resource = "release", .action = "created"}));

  Webhook webhook{.id = "w", .url = "https://example.com/h", .secret = "k", .authorization = "t"};
  WebhookDelivery delivery{.id = "d", .body = R"({"webhook_metadata":{"attempt":{"id":null}}})"};
  auto request = notify::webhook_request(webhook, delivery, "a1");
  CHECK(contains(request.body, "\"a1\""));
  std::string signature;
  std::string authorization;
  for (const auto& [name, value] : request.headers) {
    if (name == "Heroku-Webhook-Hmac-SHA256") {
      signature = value;
    }
    if (name == "Authorization") {
      authorization = value;
    }
  }
  CHECK(signature == base64(hmac_sha256("k", request.body)));
  CHECK(authorization == "t");
  CHECK(base64("") == "");
  CHECK(base64("hi") == "aGk=");
}

TEST_CASE("chat lines say what happened in a sentence", "[webhooks]") {
  Config config;
  Event deploy{.app = "shop",
               .resource = "release",
               .action = "created",
               .actor = "alice",
               .data = {{"version", 7}, {"description", "Deploy 3f2a1bc"}}};
  CHECK(notify::chat_text(config, deploy) ==
        "alice deployed shop v7 (Deploy 3f2a1bc): http://shop.localhost:8080");
  Event ci{.app = "shop",
           .resource = "test-run",
           .action = "failed",
           .data = {{"number", 12},
                    {"status", "failed"},
                    {"branch", "feature-x"},
                    {"message", "3 of 40 failed"}}};
  CHECK(notify::chat_text(config, ci) == "CI #12 failed on feature-x (3 of 40 failed)");
  Event crash{.app = "shop", .resource = "dyno", .action = "crashed", .data = {{"dyno", "web.1"}}};
  CHECK(notify::chat_text(config, crash) == "web.1 of shop crashed");
}

TEST_CASE("finished deliveries are kept 7 days and 300 per webhook, and waiting ones always",
          "[webhooks]") {
  TempDir dir;
  Layout layout(dir.path());
  auto now = std::chrono::system_clock::now();
  auto delivery = [&](int n, const std::string& status, std::chrono::hours age) {
    return WebhookDelivery{.id = fmt::format("d{:04}", n),
                           .webhook_id = "w",
                           .app = "shop",
                           .status = status,
                           .created_at = now - age + std::chrono::seconds(n)};
  };
  for (int n = 0; n < 305; ++n) {
    REQUIRE(
        save_delivery(layout, delivery(n, "succeeded", std::chrono::hours(1)), Durability::record));
  }
  REQUIRE(save_delivery(layout, delivery(900, "succeeded", std::chrono::hours(24 * 8))));
  REQUIRE(save_delivery(layout, delivery(901, "retrying", std::chrono::hours(24 * 8))));
  prune_deliveries(layout, now);
  auto kept = load_deliveries(layout);
  CHECK(kept.size() == 301);
  CHECK(std::ranges::any_of(kept, [](const WebhookDelivery& d) { return d.id == "d0901"; }));
  CHECK(std::ranges::none_of(kept, [](const WebhookDelivery& d) { return d.id == "d0900"; }));
  CHECK(std::ranges::none_of(kept, [](const WebhookDelivery& d) { return d.id == "d0000"; }));
}
