#include "ops/webhooks.hpp"

#include <algorithm>

#include "common/output.hpp"
#include "common/private_hosts.hpp"
#include "common/random.hpp"
#include "ops/rights.hpp"
#include "ops/settings.hpp"

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

Webhook without_secret(Webhook webhook) {
  webhook.secret.clear();
  return webhook;
}

void record_webhook(const Context& context, const std::string& app, const std::string& action,
                    const Webhook& webhook) {
  record(context, {.app = app,
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
  TRY(authorize(context, "webhooks:add", request.app));
  TRY(validate_webhook_url(request.url));
  Webhook webhook{.id = TRY(random_uuid()),
                  .url = request.url,
                  .include = TRY(parse_webhook_include(request.include)),
                  .level = TRY(parse_webhook_level(request.level)),
                  .secret = request.secret.empty() ? TRY(random_hex(20)) : request.secret,
                  .authorization = request.authorization,
                  .format = TRY(parse_webhook_format(request.format)),
                  .created_at = now_seconds(),
                  .updated_at = now_seconds()};
  TRY(check_secret(webhook.secret));
  TRY(check_authorization(webhook.authorization));
  // Last: it resolves the host.
  TRY(check_receiver(context, request.url));
  {
    auto lock = TRY(lock_webhooks(context.layout, request.app));
    auto webhooks = TRY(load_webhooks(context.layout, request.app));
    if (webhooks.size() >= k_max_webhooks) {
      return fail_as(ErrorKind::conflict, "{} has {} webhooks, the most an app may have",
                     request.app, k_max_webhooks);
    }
    if (std::ranges::any_of(webhooks,
                            [&](const Webhook& other) { return other.url == webhook.url; })) {
      return fail_as(ErrorKind::conflict, "{} has a webhook to {} already (webhooks:update)",
                     request.app, webhook.url);
    }
    webhooks.push_back(webhook);
    TRY(save_webhooks(context.layout, request.app, webhooks));
  }
  record_webhook(context, request.app, "created", webhook);
  return webhook;
}

Expected<std::vector<Webhook>> list_webhooks(const Context& context, const std::string& app) {
  TRY(authorize(context, "webhooks", app));
  auto webhooks = TRY(load_webhooks(context.layout, app));
  std::ranges::transform(webhooks, webhooks.begin(), without_secret);
  return webhooks;
}

Expected<Webhook> webhook_info(const Context& context, const std::string& app,
                               const std::string& id) {
  TRY(authorize(context, "webhooks:info", app));
  for (auto& webhook : TRY(load_webhooks(context.layout, app))) {
    if (webhook.id == id) {
      return without_secret(std::move(webhook));
    }
  }
  return fail_as(ErrorKind::not_found, "{} has no webhook {}", app, printable(id.substr(0, 40)));
}

Expected<Webhook> update_webhook(const Context& context, const UpdateWebhook& request) {
  TRY(authorize(context, "webhooks:update", request.app));
  if (request.url) {
    TRY(check_receiver(context, *request.url));
  }
  auto lock = TRY(lock_webhooks(context.layout, request.app));
  auto webhooks = TRY(load_webhooks(context.layout, request.app));
  auto found = std::ranges::find(webhooks, request.id, &Webhook::id);
  if (found == webhooks.end()) {
    return fail_as(ErrorKind::not_found, "{} has no webhook {}", request.app,
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
  TRY(save_webhooks(context.layout, request.app, webhooks));
  record_webhook(context, request.app, "updated", webhook);
  return without_secret(webhook);
}

Expected<void> remove_webhook(const Context& context, const std::string& app,
                              const std::string& id) {
  TRY(authorize(context, "webhooks:remove", app));
  auto lock = TRY(lock_webhooks(context.layout, app));
  auto webhooks = TRY(load_webhooks(context.layout, app));
  auto found = std::ranges::find(webhooks, id, &Webhook::id);
  if (found == webhooks.end()) {
    return fail_as(ErrorKind::not_found, "{} has no webhook {}", app, printable(id.substr(0, 40)));
  }
  Webhook removed = *found;
  webhooks.erase(found);
  TRY(save_webhooks(context.layout, app, webhooks));
  record_webhook(context, app, "destroyed", removed);
  return {};
}

Expected<std::vector<WebhookDelivery>>
webhook_deliveries(const Context& context, const std::string& app, const std::string& status) {
  TRY(authorize(context, "webhooks:deliveries", app));
  auto deliveries = load_deliveries(context.layout);
  std::erase_if(deliveries, [&](const WebhookDelivery& delivery) {
    return delivery.app != app || (!status.empty() && delivery.status != status);
  });
  return deliveries;
}

Expected<WebhookDelivery> webhook_delivery(const Context& context, const std::string& app,
                                           const std::string& id) {
  TRY(authorize(context, "webhooks:deliveries:info", app));
  for (auto& delivery : load_deliveries(context.layout)) {
    if (delivery.id == id && delivery.app == app) {
      return delivery;
    }
  }
  return fail_as(ErrorKind::not_found, "{} has no delivery {}", app, printable(id.substr(0, 40)));
}

} // namespace slipway::ops
