// What an event of the stream means to app webhooks (runtime/webhooks.hpp): its entity and
// Heroku's action, the payload in Heroku's shape, and the chat message for the Slack,
// Discord and Mattermost formats.
//
// Heroku's payload: {"id", "created_at", "published_at", "action": create|update|destroy,
// "actor": {"email", "id"}, "resource": "release", "data": {...}, "previous_data": {},
// "sequence": null, "version": "application/vnd.heroku+json; version=3",
// "webhook_metadata": {"attempt": {"id"}, "delivery": {"id"}, "event": {"id", "include"},
// "webhook": {"id"}}}, signed with Heroku-Webhook-Hmac-SHA256 = base64(HMAC-SHA256(secret,
// body)).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/config.hpp"
#include "common/http_client.hpp"
#include "runtime/events.hpp"
#include "runtime/layout.hpp"
#include "runtime/webhooks.hpp"

namespace slipway::notify {

struct WebhookEntity {
  std::string entity; // "api:release"
  std::string action; // "create", "update", "destroy"
};

// The entity `event` is about, if a webhook may include it.
std::optional<WebhookEntity> webhook_entity_of(const Event& event);

// The body a webhook of `format` gets for the event (webhook_metadata's attempt id left for
// webhook_request to fill in).
std::string webhook_body(const Layout& layout, const Config& config, const Event& event,
                         const WebhookEntity& entity, const Webhook& webhook,
                         const std::string& delivery_id);

// The chat line for an event: "alice deployed shop v7 (3f2a1bc): http://shop.example.com".
std::string chat_text(const Config& config, const Event& event);

// The request of one attempt: the body (with this attempt's id for Heroku's format), signed
// with the webhook's secret, its Authorization when it has one.
http::Request webhook_request(const Webhook& webhook, const WebhookDelivery& delivery,
                              const std::string& attempt_id);

} // namespace slipway::notify
