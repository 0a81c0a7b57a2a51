#include "ops/webhooks.hpp"

#include <algorithm>
#include <set>

#include "common/output.hpp"
#include "common/private_hosts.hpp"
#include "common/random.hpp"
#include "ops/rights.hpp"
#include "ops/settings.hpp"
#include "runtime/events.hpp"
#include "runtime/pipelines.hpp"

namespace slipway::ops {

namespace {

constexpr std::size_t k_max_webhooks = 20;

TimePoint now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

Expected<void> check_receiver(const Context& context, const std::string& url) {
  TRY(validate_webhook_url(url));
  if (!context.config.webhooks.allow_private) {
    TRY(refuse_private_host(webhook_url_host(url), "[webhooks] allow_private"));
  }
  return {};
}

Expected<void> check_secret(const std::string& secret) {
  if (secret.empty() || secret.size() > 256 ||
      std::ranges::any_of(secret, [](char c) { return c < 0x21 || c > 0x7e; })) {
    return usage_error("a webhook secret is 1 to 256 printable characters without spaces");
  }
  return {};
}

Expected<void> check_authorization(const std::string& value) {
  if (value.size() > 1024 ||
      std::ranges::any_of(value, [](char c) { return c < 0x20 || c > 0x7e; })) {
    return usage_error("an authorization is at most 1024 printable characters");
  }
  return {};
}

// The webhooks `target` names, once the actor may use them for `operation`.
Expected<WebhookOwner> owner_of(const Context& context, std::string_view operation,
                                const WebhookTarget& target) {
  if (target.pipeline.empty()) {
    if (target.app.empty()) {
      return usage_error("whose webhooks? Give -a APP (or -p PIPELINE)");
    }
    TRY(authorize(context, operation, target.app));
    return WebhookOwner{.app = target.app};
  }
  if (!context.actor.admin) {
    return fail_as(ErrorKind::forbidden,
                   "a pipeline's webhooks are told of every app of it: only an admin may use "
                   "them (an app's own: -a APP)");
  }
  auto pipeline = TRY(find_pipeline(context.layout, target.pipeline));
  return WebhookOwner{.pipeline_id = pipeline.id};
}

std::string describe(const WebhookTarget& target) {
  return target.pipeline.empty() ? target.app : "pipeline " + target.pipeline;
}

Webhook without_secret(Webhook webhook) {
  webhook.secret.clear();
  return webhook;
}

void record_webhook(const Context& context, const WebhookTarget& target, const std::string& action,
                    const Webhook& webhook) {
  record(context, {.app = target.pipeline.empty() ? target.app : "",
                   .resource = "webhook",
                   .action = action,
                   .data = {{"id", webhook.id},
                            {"url", webhook.url},
                            {"include", webhook.include},
                            {"level", to_string(webhook.level)},
                            {"message", fmt::format("Webhook {} to {} {}", webhook.id.substr(0, 8),
                                                    webhook.url, action)}}});
}

} // namespace

Expected<Webhook> add_webhook(const Context& context, const AddWebhook& request) {
  const WebhookTarget target{.app = request.app, .pipeline = request.pipeline};
  auto owner = TRY(owner_of(context, "webhooks:add", target));
  TRY(validate_webhook_url(request.url));
  Webhook webhook{.id = TRY(random_uuid()),
                  .url = request.url,
                  .include = TRY(parse_webhook_include(request.include)),
                  .level = TRY(parse_webhook_level(request.level)),
                  .secret = request.secret.empty() ? TRY(random_hex(20)) : request.secret,
                  .authorization = request.authorization,
                  .format = TRY(parse_webhook_format(request.format)),
                  .created_at = now_seconds(),
                  .updated_at = now_seconds(),
                  .after_event = last_event_id(context.layout)};
  TRY(check_secret(webhook.secret));
  TRY(check_authorization(webhook.authorization));
  // Last: it resolves the host.
  TRY(check_receiver(context, request.url));
  {
    auto lock = TRY(lock_webhooks(context.layout, owner));
    auto webhooks = TRY(load_webhooks(context.layout, owner));
    if (webhooks.size() >= k_max_webhooks) {
      return fail_as(ErrorKind::conflict, "{} has {} webhooks, the most it may have",
                     describe(target), k_max_webhooks);
    }
    if (std::ranges::any_of(webhooks,
                            [&](const Webhook& other) { return other.url == webhook.url; })) {
      return fail_as(ErrorKind::conflict, "{} has a webhook to {} already (webhooks:update)",
                     describe(target), webhook.url);
    }
    webhooks.push_back(webhook);
    TRY(save_webhooks(context.layout, owner, webhooks));
  }
  record_webhook(context, target, "created", webhook);
  return webhook;
}

Expected<std::vector<Webhook>> list_webhooks(const Context& context, const WebhookTarget& target) {
  auto owner = TRY(owner_of(context, "webhooks", target));
  auto webhooks = TRY(load_webhooks(context.layout, owner));
  std::ranges::transform(webhooks, webhooks.begin(), without_secret);
  return webhooks;
}

Expected<Webhook> webhook_info(const Context& context, const WebhookTarget& target,
                               const std::string& id) {
  auto owner = TRY(owner_of(context, "webhooks:info", target));
  for (auto& webhook : TRY(load_webhooks(context.layout, owner))) {
    if (webhook.id == id) {
      return without_secret(std::move(webhook));
    }
  }
  return fail_as(ErrorKind::not_found, "{} has no webhook {}", describe(target),
                 printable(id.substr(0, 40)));
}

Expected<Webhook> update_webhook(const Context& context, const UpdateWebhook& request) {
  const WebhookTarget target{.app = request.app, .pipeline = request.pipeline};
  auto owner = TRY(owner_of(context, "webhooks:update", target));
  if (request.url) {
    TRY(check_receiver(context, *request.url));
  }
  auto lock = TRY(lock_webhooks(context.layout, owner));
  auto webhooks = TRY(load_webhooks(context.layout, owner));
  auto found = std::ranges::find(webhooks, request.id, &Webhook::id);
  if (found == webhooks.end()) {
    return fail_as(ErrorKind::not_found, "{} has no webhook {}", describe(target),
                   printable(request.id.substr(0, 40)));
  }
  Webhook& webhook = *found;
  if (request.url) {
    webhook.url = *request.url;
  }
  if (request.include) {
    webhook.include = TRY(parse_webhook_include(*request.include));
  }
  if (request.level) {
    webhook.level = TRY(parse_webhook_level(*request.level));
  }
  if (request.secret) {
    TRY(check_secret(*request.secret));
    webhook.secret = *request.secret;
  }
  if (request.authorization) {
    TRY(check_authorization(*request.authorization));
    webhook.authorization = *request.authorization;
  }
  if (request.format) {
    webhook.format = TRY(parse_webhook_format(*request.format));
  }
  webhook.updated_at = now_seconds();
  TRY(save_webhooks(context.layout, owner, webhooks));
  record_webhook(context, target, "updated", webhook);
  return without_secret(webhook);
}

Expected<void> remove_webhook(const Context& context, const WebhookTarget& target,
                              const std::string& id) {
  auto owner = TRY(owner_of(context, "webhooks:remove", target));
  auto lock = TRY(lock_webhooks(context.layout, owner));
  auto webhooks = TRY(load_webhooks(context.layout, owner));
  auto found = std::ranges::find(webhooks, id, &Webhook::id);
  if (found == webhooks.end()) {
    return fail_as(ErrorKind::not_found, "{} has no webhook {}", describe(target),
                   printable(id.substr(0, 40)));
  }
  Webhook removed = *found;
  webhooks.erase(found);
  TRY(save_webhooks(context.layout, owner, webhooks));
  record_webhook(context, target, "destroyed", removed);
  return {};
}

namespace {

bool belongs(const WebhookOwner& owner, const WebhookDelivery& delivery) {
  return owner.pipeline_id.empty() ? delivery.pipeline_id.empty() && delivery.app == owner.app
                                   : delivery.pipeline_id == owner.pipeline_id;
}

} // namespace

Expected<std::vector<WebhookDelivery>>
webhook_deliveries(const Context& context, const WebhookTarget& target, const std::string& status) {
  auto owner = TRY(owner_of(context, "webhooks:deliveries", target));
  auto deliveries = load_deliveries(context.layout);
  std::erase_if(deliveries, [&](const WebhookDelivery& delivery) {
    return !belongs(owner, delivery) || (!status.empty() && delivery.status != status);
  });
  return deliveries;
}

Expected<WebhookDelivery> webhook_delivery(const Context& context, const WebhookTarget& target,
                                           const std::string& id) {
  auto owner = TRY(owner_of(context, "webhooks:deliveries:info", target));
  for (auto& delivery : load_deliveries(context.layout)) {
    if (delivery.id == id && belongs(owner, delivery)) {
      return delivery;
    }
  }
  return fail_as(ErrorKind::not_found, "{} has no delivery {}", describe(target),
                 printable(id.substr(0, 40)));
}

Expected<std::vector<WebhookDelivery>> webhook_events(const Context& context,
                                                      const WebhookTarget& target) {
  auto deliveries = TRY(webhook_deliveries(context, target, ""));
  std::set<std::string> seen;
  std::erase_if(deliveries, [&](const WebhookDelivery& delivery) {
    return !seen.insert(delivery.event_id).second;
  });
  return deliveries;
}

} // namespace slipway::ops
