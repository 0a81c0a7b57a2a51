#include "notify/webhooks.hpp"

#include <fmt/format.h>

#include "common/hash.hpp"
#include "common/random.hpp"
#include "runtime/apps.hpp"
#include "runtime/keys.hpp"

namespace slipway::notify {

namespace {

using Json = nlohmann::json;

std::string string_of(const Json& data, const char* key) {
  auto found = data.find(key);
  return found != data.end() && found->is_string() ? found->get<std::string>() : "";
}

std::string number_text(const Json& data, const char* key) {
  auto found = data.find(key);
  return found != data.end() && found->is_number_integer()
             ? std::to_string(found->get<std::int64_t>())
             : "";
}

// Heroku's verbs: a resource made, changed, or gone.
std::string heroku_action(const std::string& action, bool destroyed) {
  if (destroyed) {
    return "destroy";
  }
  return action == "created" || action == "added" || action == "granted" || action == "started"
             ? "create"
             : "update";
}

std::string short_commit(const std::string& commit) {
  return commit.substr(0, 7);
}

} // namespace

std::optional<WebhookEntity> webhook_entity_of(const Event& event) {
  if (event.app.empty()) {
    return std::nullopt;
  }
  const std::string& resource = event.resource;
  const std::string& action = event.action;
  bool destroyed = action == "destroyed" || action == "removed" || action == "revoked";
  std::string entity;
  if (resource == "app") {
    entity = "api:app";
  } else if (resource == "build") {
    entity = "api:build";
  } else if (resource == "release") { // a config change is told by the release it makes
    entity = "api:release";
  } else if (resource == "formation") {
    entity = "api:formation";
  } else if (resource == "domain") {
    entity = "api:domain";
  } else if (resource == "access") {
    entity = "api:collaborator";
  } else if (resource == "dyno") {
    entity = "dyno";
  } else if (resource == "pipeline-promotion") {
    entity = "api:pipeline-promotion";
  } else if (resource == "test-run") {
    entity = "api:test-run";
  } else if (resource == "review-app") {
    entity = "api:review-app";
  } else {
    return std::nullopt;
  }
  return WebhookEntity{.entity = entity, .action = heroku_action(action, destroyed)};
}

std::string chat_text(const Config& config, const Event& event) {
  const Json& data = event.data;
  std::string url = app_url(config, event.app);
  const std::string& action = event.action;
  if (event.resource == "release" && action == "created") {
    std::string description = string_of(data, "description");
    return fmt::format("{} deployed {} v{}{}: {}", event.actor, event.app,
                       number_text(data, "version"),
                       description.empty() ? "" : " (" + description + ")", url);
  }
  if (event.resource == "build" && action == "failed") {
    return fmt::format("Build of {} ({}) failed: {}", event.app,
                       short_commit(string_of(data, "commit")), string_of(data, "reason"));
  }
  if (event.resource == "pipeline-promotion" && action == "completed") {
    return fmt::format("{} v{} promoted: {} succeeded, {} failed", event.app,
                       number_text(data, "version"), number_text(data, "succeeded"),
                       number_text(data, "failed"));
  }
  if (event.resource == "pipeline-promotion" && (action == "succeeded" || action == "failed")) {
    return fmt::format("{} v{} promoted to {}: {}", string_of(data, "source"),
                       number_text(data, "source_version"), event.app, action);
  }
  if (event.resource == "test-run" && action != "created") {
    std::string branch = string_of(data, "branch");
    return fmt::format(
        "CI #{} {} on {}{}", number_text(data, "number"), string_of(data, "status"),
        branch.empty() ? event.app : branch,
        string_of(data, "message").empty() ? "" : " (" + string_of(data, "message") + ")");
  }
  if (event.resource == "dyno" && action == "crashed") {
    return fmt::format("{} of {} crashed", string_of(data, "dyno"), event.app);
  }
  if (event.resource == "review-app" &&
      (action == "created" || action == "deployed" || action == "destroyed")) {
    std::string message = string_of(data, "message");
    return action == "destroyed" ? message : message + ": " + app_url(config, event.app);
  }
  std::string message = string_of(data, "message");
  return message.empty() ? fmt::format("{}: {} {}", event.app, event.resource, action)
                         : fmt::format("{}: {}", event.app, message);
}

std::string webhook_body(const Layout& layout, const Config& config, const Event& event,
                         const WebhookEntity& entity, const Webhook& webhook,
                         const std::string& delivery_id) {
  std::string text = chat_text(config, event);
  switch (webhook.format) {
  case WebhookFormat::slack:
  case WebhookFormat::mattermost:
    return Json{{"text", text},
                {"blocks", {{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", text}}}}}}}
        .dump();
  case WebhookFormat::discord:
    return Json{{"content", text},
                {"embeds",
                 {{{"title", fmt::format("{}: {} {}", event.app, event.resource, event.action)},
                   {"description", text},
                   {"url", app_url(config, event.app)},
                   {"color",
                    event.action == "failed" || event.action == "crashed" ? 0xd93025 : 0x188038}}}}}
        .dump();
  case WebhookFormat::heroku:
    break;
  }
  auto info = app_info(layout, event.app);
  std::string app_id = info ? info->id : "";
  Json data = event.data.is_object() ? event.data : Json::object();
  data["app"] = {{"id", app_id}, {"name", event.app}};
  std::string event_id = derived_uuid(layout.id(), fmt::format("event-{}", event.id));
  if (!data.contains("id")) {
    data["id"] = derived_uuid(app_id.empty() ? layout.id() : app_id,
                              fmt::format("{}-{}", event.resource, event.id));
  }
  std::string email;
  if (auto key = find_key(layout, event.actor)) {
    email = key->email.empty() ? fmt::format("{}@{}", key->name, config.server.domain) : key->email;
  }
  std::string when = format_time(event.time);
  std::string resource =
      entity.entity.starts_with("api:") ? entity.entity.substr(4) : entity.entity;
  Json payload{
      {"id", event_id},
      {"created_at", when},
      {"published_at", when},
      {"updated_at", when},
      {"action", entity.action},
      {"actor", {{"email", email}, {"id", derived_uuid(layout.id(), "key-" + event.actor)}}},
      {"resource", resource},
      {"data", data},
      {"previous_data", Json::object()},
      {"sequence", nullptr},
      {"version", "application/vnd.heroku+json; version=3"},
      {"webhook_metadata",
       {{"attempt", {{"id", nullptr}}},
        {"delivery", {{"id", delivery_id}}},
        {"event", {{"id", event_id}, {"include", entity.entity}}},
        {"webhook", {{"id", webhook.id}}}}}};
  return payload.dump();
}

http::Request webhook_request(const Webhook& webhook, const WebhookDelivery& delivery,
                              const std::string& attempt_id) {
  std::string body = delivery.body;
  if (webhook.format == WebhookFormat::heroku) {
    auto json = Json::parse(body, nullptr, false);
    if (json.is_object() && json.contains("webhook_metadata")) {
      json["webhook_metadata"]["attempt"]["id"] = attempt_id;
      body = json.dump();
    }
  }
  http::Request request{
      .url = webhook.url,
      .headers = {{"Content-Type", "application/json"},
                  {"Heroku-Webhook-Hmac-SHA256", base64(hmac_sha256(webhook.secret, body))},
                  {"Heroku-Webhook-Id", webhook.id},
                  {"Heroku-Webhook-Delivery-Id", delivery.id}},
      .body = std::move(body),
      .timeout = std::chrono::seconds(10)};
  if (!webhook.authorization.empty()) {
    request.headers.emplace_back("Authorization", webhook.authorization);
  }
  return request;
}

} // namespace slipway::notify
