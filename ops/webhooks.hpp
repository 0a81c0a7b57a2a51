// App webhooks (runtime/webhooks.hpp), Heroku's: added, listed, changed and removed by anyone
// who may use the app, and their deliveries. A secret is shown once, when it is made; a
// receiver on the server's own network is refused unless [webhooks] allow_private.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "ops/context.hpp"
#include "runtime/webhooks.hpp"

namespace slipway::ops {

// Whose webhooks a request is about: an app's (anyone who may use it), or a pipeline's (an
// admin's: they are told of every app of the pipeline).
struct WebhookTarget {
  std::string app;
  std::string pipeline; // set: the pipeline's (its name or id)
};

struct AddWebhook {
  std::string app;
  std::string pipeline;
  std::string url;
  std::string include; // "api:build,api:release"
  std::string level = "notify";
  std::string secret; // "": one is made
  std::string authorization;
  std::string format = "heroku";
};
// The webhook with its secret (the only time it is shown).
Expected<Webhook> add_webhook(const Context& context, const AddWebhook& request);

// Without their secrets.
Expected<std::vector<Webhook>> list_webhooks(const Context& context, const WebhookTarget& target);
Expected<Webhook> webhook_info(const Context& context, const WebhookTarget& target,
                               const std::string& id);

struct UpdateWebhook {
  std::string app;
  std::string pipeline;
  std::string id;
  std::optional<std::string> url;
  std::optional<std::string> include;
  std::optional<std::string> level;
  std::optional<std::string> secret;
  std::optional<std::string> authorization;
  std::optional<std::string> format;
};
Expected<Webhook> update_webhook(const Context& context, const UpdateWebhook& request);

Expected<void> remove_webhook(const Context& context, const WebhookTarget& target,
                              const std::string& id);

// The deliveries of the target's webhooks, oldest first (`status`: only those; "" all).
Expected<std::vector<WebhookDelivery>>
webhook_deliveries(const Context& context, const WebhookTarget& target, const std::string& status);
Expected<WebhookDelivery> webhook_delivery(const Context& context, const WebhookTarget& target,
                                           const std::string& id);

// The webhook events the target's deliveries carried: the first delivery of each event,
// oldest first (its event_id, entity, times and payload).
Expected<std::vector<WebhookDelivery>> webhook_events(const Context& context,
                                                      const WebhookTarget& target);

} // namespace slipway::ops
