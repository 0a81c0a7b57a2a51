// App webhooks in Heroku's shapes (/apps/{app}/webhooks, /webhook-deliveries,
// /webhook-events), so that `heroku webhooks:*` works: each a parser and printer around
// ops/webhooks.hpp. A webhook event is what its deliveries carry.
#include <map>
#include <set>

#include "api/endpoints.hpp"
#include "common/random.hpp"
#include "ops/webhooks.hpp"

namespace slipway::api {

namespace {

using nlohmann::json;

json webhook_json(const ops::AppRef& app, const Webhook& webhook) {
  return {{"id", webhook.id},
          {"app", {{"id", app.id}, {"name", app.name}}},
          {"include", webhook.include},
          {"level", to_string(webhook.level)},
          {"url", webhook.url},
          {"created_at", format_time(webhook.created_at)},
          {"updated_at", format_time(webhook.updated_at)}};
}

json event_payload(const WebhookDelivery& delivery) {
  auto body = json::parse(delivery.body, nullptr, false);
  if (!body.is_object() || !body.contains("webhook_metadata")) {
    // A chat format's delivery: what it was about.
    return {{"resource", delivery.entity}, {"action", "update"}};
  }
  body.erase("webhook_metadata");
  return body;
}

json delivery_json(const std::map<std::string, WebhookLevel>& levels,
                   const WebhookDelivery& delivery) {
  auto level = levels.find(delivery.webhook_id);
  json last = nullptr;
  if (delivery.attempts > 0) {
    last = {
        {"id", derived_uuid(delivery.id, std::to_string(delivery.attempts))},
        {"code", delivery.last_code == 0 ? json(nullptr) : json(delivery.last_code)},
        {"error_class", delivery.last_error.empty() ? json(nullptr) : json(delivery.last_error)},
        {"status", delivery.last_error.empty() ? "succeeded" : "failed"},
        {"created_at", format_time(delivery.updated_at)},
        {"updated_at", format_time(delivery.updated_at)}};
  }
  bool waiting = delivery.status == "pending" || delivery.status == "retrying";
  return {
      {"id", delivery.id},
      {"created_at", format_time(delivery.created_at)},
      {"updated_at", format_time(delivery.updated_at)},
      {"event", {{"id", delivery.event_id}, {"include", delivery.entity}}},
      {"webhook",
       {{"id", delivery.webhook_id},
        {"level", level == levels.end() ? "notify" : to_string(level->second)}}},
      {"num_attempts", delivery.attempts},
      {"next_attempt_at", waiting ? json(format_time(delivery.next_attempt_at)) : json(nullptr)},
      {"last_attempt", last},
      {"status", delivery.status == "retrying" ? "retrying" : delivery.status}};
}

json event_json(const WebhookDelivery& delivery) {
  return {{"id", delivery.event_id},
          {"created_at", format_time(delivery.created_at)},
          {"updated_at", format_time(delivery.updated_at)},
          {"include", delivery.entity},
          {"payload", event_payload(delivery)}};
}

Expected<std::map<std::string, WebhookLevel>> levels_of(Call& call, const ops::AppRef& app) {
  std::map<std::string, WebhookLevel> levels;
  for (const auto& webhook : TRY(ops::list_webhooks(call.context, {.app = app.name}))) {
    levels[webhook.id] = webhook.level;
  }
  return levels;
}

Expected<std::optional<std::string>> include_member(const json& body) {
  auto found = body.find("include");
  if (found == body.end() || found->is_null()) {
    return std::nullopt;
  }
  if (!found->is_array() ||
      !std::ranges::all_of(*found, [](const json& e) { return e.is_string(); })) {
    return usage_error("'include' is a list of entities such as [\"api:release\"]");
  }
  std::string joined;
  for (const auto& entity : *found) {
    joined += (joined.empty() ? "" : ",") + entity.get<std::string>();
  }
  return std::optional(joined);
}

Expected<Response> list(Call& call) {
  auto app = TRY(app_param(call));
  json out = json::array();
  for (const auto& webhook : TRY(ops::list_webhooks(call.context, {.app = app.name}))) {
    out.push_back(webhook_json(app, webhook));
  }
  return json_response(out);
}

Expected<Response> add(Call& call) {
  auto app = TRY(app_param(call));
  auto body = TRY(call.body());
  auto url = TRY(string_member(body, "url"));
  auto level = TRY(string_member(body, "level"));
  auto include = TRY(include_member(body));
  if (!url || !level || !include) {
    return usage_error("'url', 'include' and 'level' are required");
  }
  auto secret = TRY(string_member(body, "secret"));
  auto authorization = TRY(string_member(body, "authorization"));
  auto webhook = TRY(ops::add_webhook(call.context, {.app = app.name,
                                                     .url = *url,
                                                     .include = *include,
                                                     .level = *level,
                                                     .secret = secret.value_or(""),
                                                     .authorization = authorization.value_or("")}));
  Response response = json_response(webhook_json(app, webhook), http::status::created);
  if (!secret) {
    // Heroku hands a secret it made back once, in this header.
    response.headers.emplace_back("Heroku-Webhook-Secret", webhook.secret);
  }
  return response;
}

Expected<Response> show(Call& call) {
  auto app = TRY(app_param(call));
  return json_response(
      webhook_json(app, TRY(ops::webhook_info(call.context, {.app = app.name}, call.params[1]))));
}

Expected<Response> update(Call& call) {
  auto app = TRY(app_param(call));
  auto body = TRY(call.body());
  auto webhook = TRY(ops::update_webhook(
      call.context, {.app = app.name,
                     .id = call.params[1],
                     .url = TRY(string_member(body, "url")),
                     .include = TRY(include_member(body)),
                     .level = TRY(string_member(body, "level")),
                     .secret = TRY(string_member(body, "secret")),
                     .authorization = TRY(string_member(body, "authorization"))}));
  return json_response(webhook_json(app, webhook));
}

Expected<Response> remove(Call& call) {
  auto app = TRY(app_param(call));
  auto webhook = TRY(ops::webhook_info(call.context, {.app = app.name}, call.params[1]));
  TRY(ops::remove_webhook(call.context, {.app = app.name}, call.params[1]));
  return json_response(webhook_json(app, webhook));
}

Expected<Response> deliveries(Call& call) {
  auto app = TRY(app_param(call));
  auto levels = TRY(levels_of(call, app));
  auto found = TRY(ops::webhook_deliveries(call.context, {.app = app.name},
                                           call.query("eq[status]").value_or("")));
  json out = json::array();
  // Newest first, as Heroku's `order=desc` asks.
  for (auto it = found.rbegin(); it != found.rend() && out.size() < 1000; ++it) {
    out.push_back(delivery_json(levels, *it));
  }
  return json_response(out);
}

Expected<Response> delivery(Call& call) {
  auto app = TRY(app_param(call));
  auto levels = TRY(levels_of(call, app));
  return json_response(delivery_json(
      levels, TRY(ops::webhook_delivery(call.context, {.app = app.name}, call.params[1]))));
}

Expected<Response> events(Call& call) {
  auto app = TRY(app_param(call));
  json out = json::array();
  for (const auto& each : TRY(ops::webhook_events(call.context, {.app = app.name}))) {
    out.push_back(event_json(each));
  }
  return json_response(out);
}

Expected<Response> event(Call& call) {
  auto app = TRY(app_param(call));
  for (const auto& each : TRY(ops::webhook_events(call.context, {.app = app.name}))) {
    if (each.event_id == call.params[1]) {
      return json_response(event_json(each));
    }
  }
  return fail_as(ErrorKind::not_found, "{} has no webhook event {}", app.name,
                 call.params[1].substr(0, 40));
}

} // namespace

void add_webhook_routes(std::vector<Route>& routes) {
  routes.push_back({http::verb::get, "/apps/{}/webhooks", list});
  routes.push_back({http::verb::post, "/apps/{}/webhooks", add});
  routes.push_back({http::verb::get, "/apps/{}/webhooks/{}", show});
  routes.push_back({http::verb::patch, "/apps/{}/webhooks/{}", update});
  routes.push_back({http::verb::delete_, "/apps/{}/webhooks/{}", remove});
  routes.push_back({http::verb::get, "/apps/{}/webhook-deliveries", deliveries});
  routes.push_back({http::verb::get, "/apps/{}/webhook-deliveries/{}", delivery});
  routes.push_back({http::verb::get, "/apps/{}/webhook-events", events});
  routes.push_back({http::verb::get, "/apps/{}/webhook-events/{}", event});
}

} // namespace slipway::api
