// webhooks -a APP, webhooks:add -a APP -u URL -i ENTITIES -l notify|sync [-s SECRET]
// [-t AUTHORIZATION] [--format heroku|slack|discord|mattermost], webhooks:info -a APP ID,
// webhooks:update -a APP ID [...], webhooks:remove -a APP ID, webhooks:deliveries -a APP
// [--status S], webhooks:deliveries:info -a APP ID, webhooks:events -a APP; -p PIPELINE instead
// of -a for a pipeline's
#include <cstdio>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "ops/webhooks.hpp"

namespace slipway::cli {

namespace {

struct WebhookArgs {
  std::string app;
  std::string pipeline;
  std::string id;
  std::string url;
  std::string include;
  std::string level;
  std::string secret;
  std::string authorization;
  std::string format;
  std::string status;
  bool json = false;
};

ops::WebhookTarget target(const WebhookArgs& args) {
  return {.app = args.app, .pipeline = args.pipeline};
}

nlohmann::json webhook_json(const Webhook& webhook) {
  nlohmann::json out{{"id", webhook.id},
                     {"url", webhook.url},
                     {"include", webhook.include},
                     {"level", to_string(webhook.level)},
                     {"format", to_string(webhook.format)},
                     {"created_at", format_time(webhook.created_at)},
                     {"updated_at", format_time(webhook.updated_at)}};
  if (!webhook.secret.empty()) {
    out["secret"] = webhook.secret;
  }
  return out;
}

nlohmann::json delivery_summary(const WebhookDelivery& delivery) {
  return {{"id", delivery.id},
          {"webhook_id", delivery.webhook_id},
          {"event_id", delivery.event_id},
          {"entity", delivery.entity},
          {"status", delivery.status},
          {"attempts", delivery.attempts},
          {"last_code", delivery.last_code},
          {"last_error", delivery.last_error},
          {"last_ms", delivery.last_ms},
          {"created_at", format_time(delivery.created_at)},
          {"updated_at", format_time(delivery.updated_at)},
          {"next_attempt_at", delivery.status == "retrying"
                                  ? nlohmann::json(format_time(delivery.next_attempt_at))
                                  : nlohmann::json(nullptr)}};
}

void print_webhook(const Webhook& webhook) {
  std::printf("=== %s\nURL:     %s\nInclude: %s\nLevel:   %s\nFormat:  %s\nCreated: %s\n",
              webhook.id.c_str(), webhook.url.c_str(),
              fmt::format("{}", fmt::join(webhook.include, ",")).c_str(),
              std::string(to_string(webhook.level)).c_str(),
              std::string(to_string(webhook.format)).c_str(),
              format_time(webhook.created_at).c_str());
}

Expected<void> add(const Globals& globals, const WebhookArgs& args) {
  auto webhook = TRY(ops::add_webhook(TRY(globals.context()),
                                      {.app = args.app,
                                       .pipeline = args.pipeline,
                                       .url = args.url,
                                       .include = args.include,
                                       .level = args.level.empty() ? "notify" : args.level,
                                       .secret = args.secret,
                                       .authorization = args.authorization,
                                       .format = args.format.empty() ? "heroku" : args.format}));
  if (args.json) {
    std::puts(webhook_json(webhook).dump(2).c_str());
    return {};
  }
  print_line(fmt::format("Added webhook {} to {}", webhook.id, args.app));
  if (args.secret.empty()) {
    std::printf("=== Webhook Signing Secret\n%s\n", webhook.secret.c_str());
  }
  return {};
}

Expected<void> list(const Globals& globals, const WebhookArgs& args) {
  auto webhooks = TRY(ops::list_webhooks(TRY(globals.context()), target(args)));
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& webhook : webhooks) {
      out.push_back(webhook_json(webhook));
    }
    std::puts(out.dump(2).c_str());
    return {};
  }
  if (webhooks.empty()) {
    print_line(fmt::format("{} has no webhooks", args.app));
    return {};
  }
  std::printf("%-36s %-40s %-7s %s\n", "id", "url", "level", "include");
  for (const auto& webhook : webhooks) {
    std::printf("%-36s %-40s %-7s %s\n", webhook.id.c_str(), webhook.url.c_str(),
                std::string(to_string(webhook.level)).c_str(),
                fmt::format("{}", fmt::join(webhook.include, ",")).c_str());
  }
  return {};
}

Expected<void> info(const Globals& globals, const WebhookArgs& args) {
  auto webhook = TRY(ops::webhook_info(TRY(globals.context()), target(args), args.id));
  if (args.json) {
    std::puts(webhook_json(webhook).dump(2).c_str());
  } else {
    print_webhook(webhook);
  }
  return {};
}

Expected<void> update(const Globals& globals, const WebhookArgs& args) {
  auto given = [](const std::string& value) {
    return value.empty() ? std::nullopt : std::optional(value);
  };
  auto webhook =
      TRY(ops::update_webhook(TRY(globals.context()), {.app = args.app,
                                                       .id = args.id,
                                                       .url = given(args.url),
                                                       .include = given(args.include),
                                                       .level = given(args.level),
                                                       .secret = given(args.secret),
                                                       .authorization = given(args.authorization),
                                                       .format = given(args.format)}));
  print_line(fmt::format("Updated webhook {}", webhook.id));
  return {};
}

Expected<void> remove(const Globals& globals, const WebhookArgs& args) {
  TRY(ops::remove_webhook(TRY(globals.context()), target(args), args.id));
  print_line(fmt::format("Removed webhook {}", args.id));
  return {};
}

Expected<void> deliveries(const Globals& globals, const WebhookArgs& args) {
  auto found = TRY(ops::webhook_deliveries(TRY(globals.context()), target(args), args.status));
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& delivery : found) {
      out.push_back(delivery_summary(delivery));
    }
    std::puts(out.dump(2).c_str());
    return {};
  }
  std::printf("%-36s %-20s %-22s %-10s %-8s %s\n", "id", "created", "entity", "status", "attempts",
              "code");
  for (const auto& delivery : found) {
    std::printf("%-36s %-20s %-22s %-10s %-8d %d\n", delivery.id.c_str(),
                format_time(delivery.created_at).c_str(), delivery.entity.c_str(),
                delivery.status.c_str(), delivery.attempts, delivery.last_code);
  }
  return {};
}

Expected<void> delivery_info(const Globals& globals, const WebhookArgs& args) {
  auto delivery = TRY(ops::webhook_delivery(TRY(globals.context()), target(args), args.id));
  auto out = delivery_summary(delivery);
  out["payload"] = nlohmann::json::parse(delivery.body, nullptr, false);
  std::puts(out.dump(2).c_str());
  return {};
}

Expected<void> events(const Globals& globals, const WebhookArgs& args) {
  auto found = TRY(ops::webhook_events(TRY(globals.context()), target(args)));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& event : found) {
    out.push_back({{"id", event.event_id},
                   {"include", event.entity},
                   {"created_at", format_time(event.created_at)},
                   {"payload", nlohmann::json::parse(event.body, nullptr, false)}});
  }
  if (args.json) {
    std::puts(out.dump(2).c_str());
    return {};
  }
  std::printf("%-36s %-22s %s\n", "event", "include", "created");
  for (const auto& event : found) {
    std::printf("%-36s %-22s %s\n", event.event_id.c_str(), event.entity.c_str(),
                format_time(event.created_at).c_str());
  }
  return {};
}

} // namespace

void add_webhooks_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<WebhookArgs>();
  // -a APP, or -p PIPELINE for a pipeline's webhooks (an admin's).
  auto target_options = [&](CLI::App* command) {
    auto* app_option = add_app_option(command, args->app)->required(false);
    auto* pipeline_option =
        command->add_option("-p,--pipeline", args->pipeline, "a pipeline's webhooks instead");
    app_option->excludes(pipeline_option);
  };
  auto options = [&](CLI::App* command, bool required) {
    auto* url = command->add_option("-u,--url", args->url, "the receiver's URL (http or https)");
    auto* include = command->add_option("-i,--include", args->include,
                                        "entities: api:app,api:build,api:release,api:formation,"
                                        "api:dyno,api:domain,api:collaborator,dyno,"
                                        "api:pipeline-promotion,api:test-run,api:review-app");
    auto* level = command->add_option("-l,--level", args->level,
                                      "notify (one attempt) or sync (retried up to 72 h)");
    if (required) {
      url->required();
      include->required();
      level->required();
    }
    command->add_option("-s,--secret", args->secret, "the signing secret (default: one made)");
    command->add_option("-t,--authorization", args->authorization,
                        "sent as the Authorization header");
    command->add_option("--format", args->format, "heroku, slack, discord or mattermost");
  };

  auto* list_cmd = app.add_subcommand("webhooks", "list an app's webhooks");
  target_options(list_cmd);
  list_cmd->add_flag("--json", args->json, "print JSON");
  list_cmd->callback(choose(globals, action, args, list));

  auto* add_cmd = add_command(app, "webhooks:add", "add a webhook to an app");
  target_options(add_cmd);
  options(add_cmd, true);
  add_cmd->add_flag("--json", args->json, "print JSON (with the secret)");
  add_cmd->callback(choose(globals, action, args, add));

  auto* info_cmd = add_command(app, "webhooks:info", "show a webhook");
  target_options(info_cmd);
  info_cmd->add_option("ID", args->id, "the webhook's id")->required();
  info_cmd->add_flag("--json", args->json, "print JSON");
  info_cmd->callback(choose(globals, action, args, info));

  auto* update_cmd = add_command(app, "webhooks:update", "change a webhook");
  target_options(update_cmd);
  update_cmd->add_option("ID", args->id, "the webhook's id")->required();
  options(update_cmd, false);
  update_cmd->callback(choose(globals, action, args, update));

  auto* remove_cmd = add_command(app, "webhooks:remove", "remove a webhook");
  target_options(remove_cmd);
  remove_cmd->add_option("ID", args->id, "the webhook's id")->required();
  remove_cmd->callback(choose(globals, action, args, remove));

  auto* deliveries_cmd = add_command(app, "webhooks:deliveries", "list an app's deliveries");
  target_options(deliveries_cmd);
  deliveries_cmd->add_option("--status", args->status,
                             "only pending, retrying, succeeded, failed or skipped ones");
  deliveries_cmd->add_flag("--json", args->json, "print JSON");
  deliveries_cmd->callback(choose(globals, action, args, deliveries));

  auto* events_cmd = add_command(app, "webhooks:events", "list the events webhooks were sent");
  target_options(events_cmd);
  events_cmd->add_flag("--json", args->json, "print JSON (with each payload)");
  events_cmd->callback(choose(globals, action, args, events));

  auto* delivery_cmd = add_command(app, "webhooks:deliveries:info", "show a delivery (JSON)");
  target_options(delivery_cmd);
  delivery_cmd->add_option("ID", args->id, "the delivery's id")->required();
  delivery_cmd->callback(choose(globals, action, args, delivery_info));
}

} // namespace slipway::cli
