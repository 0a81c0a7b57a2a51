// App webhooks (Heroku's): a receiver's URL, the entities it wants, how hard to try, and a
// secret its deliveries are signed with; and each delivery's record. What sends them, from
// the event stream: notify/webhooks.hpp.
//
//   ROOT/apps/APP/webhooks.toml   the app's webhooks, 0600 (their secrets), replaced whole
//                                 under apps/APP/webhooks.lock
//   ROOT/pipelines/webhooks/ID.toml   pipeline ID's, the same way
//   ROOT/webhooks/deliveries/ID.json   a delivery: its state, attempts and payload, 0600;
//                                 kept 7 days, at most 300 per webhook
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file_lock.hpp"
#include "common/time.hpp"
#include "runtime/layout.hpp"

namespace slipway {

enum class WebhookLevel { notify, sync };
enum class WebhookFormat { heroku, slack, discord, mattermost };

std::string_view to_string(WebhookLevel level);
std::string_view to_string(WebhookFormat format);
Expected<WebhookLevel> parse_webhook_level(std::string_view text);
Expected<WebhookFormat> parse_webhook_format(std::string_view text);

// Every entity a webhook may include: Heroku's (api:app, api:build, api:release, ...,
// dyno) and slipway's (api:pipeline-promotion, api:test-run, api:review-app).
std::span<const std::string_view> webhook_entities();
// "api:build,api:release" (spaces allowed); an unknown one is named, with the known ones.
Expected<std::vector<std::string>> parse_webhook_include(std::string_view list);

// A receiver's URL: http or https, a host, no user or password, at most 1024 characters.
Expected<void> validate_webhook_url(std::string_view url);
// The URL's host ("example.com", "127.0.0.1", "::1").
std::string webhook_url_host(std::string_view url);

struct Webhook {
  std::string id; // a UUID
  std::string url;
  std::vector<std::string> include;
  WebhookLevel level = WebhookLevel::notify;
  std::string secret;        // the HMAC key; never shown after it is made
  std::string authorization; // sent as the Authorization header; "" none
  WebhookFormat format = WebhookFormat::heroku;
  TimePoint created_at{};
  TimePoint updated_at{};
  // The newest event of the stream when it was made: the webhook is told of later ones only,
  // however far behind the sender is.
  std::uint64_t after_event = 0;
};

// Whether `event` happened before `webhook` was made. By the stream's ids, and by time too: a
// stream begun again (its files removed) numbers from 1, and its events are all new.
bool predates(const Webhook& webhook, std::uint64_t event_id, TimePoint event_time);

// Whose webhooks: an app's (apps/APP/webhooks.toml), or a pipeline's, told of every event
// of its apps (pipelines/webhooks/ID.toml).
struct WebhookOwner {
  std::string app;
  std::string pipeline_id; // set: the pipeline's
};

// The owner's webhooks (none when it has no file); a damaged file is an error naming it.
Expected<std::vector<Webhook>> load_webhooks(const Layout& layout, const WebhookOwner& owner);
// Replaces them (0600). Callers hold lock_webhooks.
Expected<void> save_webhooks(const Layout& layout, const WebhookOwner& owner,
                             const std::vector<Webhook>& webhooks);
Expected<FileLock> lock_webhooks(const Layout& layout, const WebhookOwner& owner);

struct WebhookDelivery {
  std::string id; // a UUID
  std::string webhook_id;
  std::string pipeline_id; // a pipeline's webhook: its id; "" an app's
  std::string app;
  std::string event_id;        // the webhook event's (a UUID derived from the stream's id)
  std::uint64_t stream_id = 0; // the event stream's id
  std::string entity;          // "api:release"
  std::string status;          // pending, retrying, succeeded, failed, skipped
  int attempts = 0;
  TimePoint created_at{};
  TimePoint updated_at{};
  TimePoint next_attempt_at{}; // when pending or retrying
  int last_code = 0;           // the last attempt's HTTP status; 0: no answer
  std::string last_error;      // why the last attempt failed, "" when it did not
  long last_ms = 0;            // how long the last attempt took
  std::string body;            // the payload as sent (webhook_metadata's attempt aside)
};

nlohmann::json delivery_json(const WebhookDelivery& delivery);
Expected<WebhookDelivery> parse_delivery(const nlohmann::json& json);

// durable: on disk before it returns (a delivery to retry, which only this record keeps);
// record: replaced atomically, not waited for (a finished one: losing it to a crash loses
// a line of history, never a delivery).
enum class Durability { durable, record };
Expected<void> save_delivery(const Layout& layout, const WebhookDelivery& delivery,
                             Durability durability = Durability::durable);
// Every delivery on record, oldest first; unreadable ones are skipped.
std::vector<WebhookDelivery> load_deliveries(const Layout& layout);
// Removes finished deliveries older than 7 days, and past the newest 300 of each webhook.
void prune_deliveries(const Layout& layout, TimePoint now);

} // namespace slipway
