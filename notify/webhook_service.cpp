#include "notify/webhook_service.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "common/private_hosts.hpp"
#include "common/random.hpp"
#include "notify/service_thread.hpp"
#include "notify/webhooks.hpp"
#include "ops/chat.hpp"
#include "runtime/events.hpp"
#include "runtime/pipelines.hpp"
#include "runtime/webhooks.hpp"

namespace slipway::notify {

namespace {

constexpr std::chrono::milliseconds k_idle{20};
constexpr std::chrono::seconds k_max_backoff{600};
constexpr std::chrono::hours k_prune_every{1};

void log(std::string_view line) {
  std::string text = fmt::format("{} slipway[webhooks]: {}\n",
                                 format_time(std::chrono::system_clock::now()), line);
  std::fwrite(text.data(), 1, text.size(), stderr);
}

TimePoint now() {
  return std::chrono::system_clock::now();
}

// Whether `webhook` wants events of `entity`; api:dyno is Heroku's name for the dyno events
// too (slipway's processes change state; they are not made through the API).
bool includes(const Webhook& webhook, const std::string& entity) {
  auto has = [&](std::string_view name) {
    return std::ranges::find(webhook.include, name) != webhook.include.end();
  };
  return has(entity) || (entity == "dyno" && has("api:dyno"));
}

class Sender {
 public:
  Sender(Layout layout, Config config) : m_layout(std::move(layout)), m_config(std::move(config)) {}

  void run(StopSignal& signal) {
    const std::atomic<bool>& stop = signal.flag();
    auto subscription = EventSubscription::open(m_layout, "webhooks", log);
    if (!subscription) {
      log("webhooks are off: " + subscription.error().message);
      return;
    }
    for (auto& delivery : load_deliveries(m_layout)) {
      if (delivery.status == "pending" || delivery.status == "retrying") {
        m_queue.push_back(std::move(delivery));
      }
    }
    TimePoint pruned{};
    while (!stop) {
      // The stream is the queue of what is not yet tried: a batch's deliveries are tried, and
      // those left to retry recorded durably, before the cursor moves past its events once.
      auto batch = subscription->poll(log);
      for (const auto& event : batch) {
        enqueue(event);
      }
      send_due(stop);
      // Stopped half way, some of the batch's deliveries were neither tried nor recorded:
      // the cursor stays, and they are read again at the next start.
      if (!batch.empty() && !stop) {
        if (auto handled = subscription->handled(batch.back().id); !handled) {
          log(handled.error().message);
        }
      }
      send_chat_replies();
      if (now() - pruned > k_prune_every) {
        prune_deliveries(m_layout, now());
        pruned = now();
      }
      signal.wait(k_idle);
    }
  }

 private:
  void enqueue(const Event& event) {
    auto entity = webhook_entity_of(event);
    if (!entity) {
      return;
    }
    // The app's own webhooks, then its pipeline's.
    std::vector<std::pair<std::string, Webhook>> targets;
    auto add = [&](const WebhookOwner& owner) {
      auto webhooks = load_webhooks(m_layout, owner);
      if (!webhooks) {
        log(webhooks.error().message);
        return;
      }
      for (auto& webhook : *webhooks) {
        targets.emplace_back(owner.pipeline_id, std::move(webhook));
      }
    };
    add({.app = event.app});
    if (auto member = pipeline_member(m_layout, event.app); member && *member) {
      add({.pipeline_id = (*member)->coupling.pipeline});
    }
    for (const auto& [pipeline_id, webhook] : targets) {
      if (!includes(webhook, entity->entity) || predates(webhook, event.id, event.time)) {
        continue;
      }
      auto id = random_uuid();
      if (!id) {
        continue;
      }
      WebhookDelivery delivery{
          .id = *id,
          .webhook_id = webhook.id,
          .pipeline_id = pipeline_id,
          .app = event.app,
          .event_id = derived_uuid(m_layout.id(), fmt::format("event-{}", event.id)),
          .stream_id = event.id,
          .entity = entity->entity,
          .status = "pending",
          .created_at = now(),
          .updated_at = now(),
          .next_attempt_at = now(),
          .body = webhook_body(m_layout, m_config, event, *entity, webhook, *id)};
      m_queue.push_back(std::move(delivery));
    }
  }

  std::optional<Webhook> webhook_of(const WebhookDelivery& delivery) {
    auto webhooks = load_webhooks(
        m_layout, delivery.pipeline_id.empty() ? WebhookOwner{.app = delivery.app}
                                               : WebhookOwner{.pipeline_id = delivery.pipeline_id});
    if (!webhooks) {
      return std::nullopt;
    }
    for (auto& webhook : *webhooks) {
      if (webhook.id == delivery.webhook_id) {
        return webhook;
      }
    }
    return std::nullopt;
  }

  std::chrono::milliseconds backoff(int attempts) {
    auto base = std::chrono::seconds(1) * (1LL << std::min(attempts - 1, 10));
    auto capped = std::min<std::chrono::milliseconds>(base, k_max_backoff);
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    return std::chrono::milliseconds(static_cast<long long>(capped.count() * jitter(m_random)));
  }

  void attempt(WebhookDelivery& delivery, const Webhook& webhook) {
    ++delivery.attempts;
    auto started = std::chrono::steady_clock::now();
    // Checked at each attempt, not only when the webhook was added: a name may resolve
    // elsewhere since.
    auto response = [&]() -> Expected<http::Response> {
      if (!m_config.webhooks.allow_private) {
        TRY(refuse_private_host(webhook_url_host(webhook.url), "[webhooks] allow_private"));
      }
      return http::send(webhook_request(webhook, delivery, random_uuid().value_or("")));
    }();
    delivery.last_ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - started)
                                             .count());
    delivery.updated_at = now();
    bool ok = response && response->status >= 200 && response->status < 300;
    delivery.last_code = response ? static_cast<int>(response->status) : 0;
    delivery.last_error = ok         ? ""
                          : response ? fmt::format("HTTP {}", response->status)
                                     : response.error().message;
    if (ok) {
      delivery.status = "succeeded";
      m_exhausted.erase(webhook.id);
      return;
    }
    bool retried = webhook.level == WebhookLevel::sync && !m_exhausted.contains(webhook.id);
    if (!retried) {
      delivery.status = webhook.level == WebhookLevel::sync ? "skipped" : "failed";
      return;
    }
    auto next = now() + backoff(delivery.attempts);
    if (next - delivery.created_at > m_config.webhooks.retry_for) {
      delivery.status = "failed";
      m_exhausted.insert(webhook.id);
      return;
    }
    delivery.status = "retrying";
    delivery.next_attempt_at = next;
  }

  void send_due(const std::atomic<bool>& stop) {
    for (auto it = m_queue.begin(); it != m_queue.end() && !stop;) {
      if (it->next_attempt_at > now()) {
        ++it;
        continue;
      }
      auto webhook = webhook_of(*it);
      if (!webhook) {
        it->status = "failed";
        it->last_error = "the webhook was removed";
      } else {
        attempt(*it, *webhook);
      }
      bool waits = it->status == "retrying";
      if (auto saved =
              save_delivery(m_layout, *it, waits ? Durability::durable : Durability::record);
          !saved) {
        log(saved.error().message);
      }
      if (it->status == "retrying") {
        log(fmt::format(
            "delivery {} of {} to {}: attempt {} failed ({}), again in {} ms", it->id, it->entity,
            webhook->url, it->attempts, it->last_error,
            std::chrono::duration_cast<std::chrono::milliseconds>(it->next_attempt_at - now())
                .count()));
        ++it;
      } else {
        if (it->status != "succeeded") {
          log(fmt::format("delivery {} of {}: {} after {} attempts ({})", it->id, it->entity,
                          it->status, it->attempts, it->last_error));
        }
        it = m_queue.erase(it);
      }
    }
  }

  // Slash commands' results (ops/chat.hpp), to their response URLs: tried up to 5 times,
  // a round apart.
  void send_chat_replies() {
    for (const auto& item : ops::chat_outbox(m_layout)) {
      auto sent = [&]() -> Expected<http::Response> {
        TRY(validate_webhook_url(item.url));
        if (!m_config.webhooks.allow_private) {
          TRY(refuse_private_host(webhook_url_host(item.url), "[webhooks] allow_private"));
        }
        return http::send(
            {.url = item.url,
             .headers = {{"Content-Type", "application/json"}},
             .body = nlohmann::json{{"response_type", "in_channel"}, {"text", item.text}}.dump(),
             .timeout = std::chrono::seconds(10)});
      }();
      bool done = sent && sent->status >= 200 && sent->status < 500;
      if (done || ++m_reply_attempts[item.file.string()] >= 5) {
        if (!done) {
          log(fmt::format("a chat reply was dropped: {}",
                          sent ? fmt::format("HTTP {}", sent->status) : sent.error().message));
        }
        std::error_code ec;
        std::filesystem::remove(item.file, ec);
        m_reply_attempts.erase(item.file.string());
      }
    }
  }

  Layout m_layout;
  Config m_config;
  std::map<std::string, int> m_reply_attempts;
  std::vector<WebhookDelivery> m_queue;
  std::set<std::string> m_exhausted; // webhooks whose receiver failed a whole window
  std::mt19937 m_random{std::random_device{}()};
};

} // namespace

DaemonService webhook_service(const Layout& layout) {
  return threaded_service("webhooks", [layout](const Config& config, StopSignal& signal) {
    Sender(layout, config).run(signal);
  });
}

} // namespace slipway::notify
