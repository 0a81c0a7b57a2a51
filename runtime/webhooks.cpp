#include "runtime/webhooks.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <sstream>
#include <sys/stat.h>

#include <toml++/toml.h>

#include "common/fd.hpp"
#include "common/files.hpp"
#include "common/output.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 11> k_entities = {
    "api:app",       "api:build",        "api:release", "api:formation",          "api:dyno",
    "api:domain",    "api:collaborator", "dyno",        "api:pipeline-promotion", "api:test-run",
    "api:review-app"};

constexpr auto k_kept_for = std::chrono::hours(24 * 7);
constexpr std::size_t k_kept_per_webhook = 300;

fs::path webhooks_file(const Layout& layout, const WebhookOwner& owner) {
  return owner.pipeline_id.empty()
             ? layout.app_dir(owner.app) / "webhooks.toml"
             : layout.pipelines_dir() / "webhooks" / (owner.pipeline_id + ".toml");
}

fs::path deliveries_dir(const Layout& layout) {
  return layout.root() / "webhooks" / "deliveries";
}

std::int64_t seconds_of(TimePoint when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

TimePoint time_of(std::int64_t millis) {
  return TimePoint(std::chrono::milliseconds(millis));
}

} // namespace

std::string_view to_string(WebhookLevel level) {
  return level == WebhookLevel::sync ? "sync" : "notify";
}

std::string_view to_string(WebhookFormat format) {
  switch (format) {
  case WebhookFormat::heroku:
    return "heroku";
  case WebhookFormat::slack:
    return "slack";
  case WebhookFormat::discord:
    return "discord";
  case WebhookFormat::mattermost:
    return "mattermost";
  }
  return "heroku";
}

Expected<WebhookLevel> parse_webhook_level(std::string_view text) {
  if (text == "notify") {
    return WebhookLevel::notify;
  }
  if (text == "sync") {
    return WebhookLevel::sync;
  }
  return usage_error("unknown level '{}' (notify: one attempt; sync: retried)",
                     printable(text.substr(0, 40)));
}

Expected<WebhookFormat> parse_webhook_format(std::string_view text) {
  for (auto format : {WebhookFormat::heroku, WebhookFormat::slack, WebhookFormat::discord,
                      WebhookFormat::mattermost}) {
    if (text == to_string(format)) {
      return format;
    }
  }
  return usage_error("unknown format '{}' (heroku, slack, discord or mattermost)",
                     printable(text.substr(0, 40)));
}

std::span<const std::string_view> webhook_entities() {
  return k_entities;
}

Expected<std::vector<std::string>> parse_webhook_include(std::string_view list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    std::string_view item = list.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    while (!item.empty() && item.back() == ' ') {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      if (std::ranges::find(k_entities, item) == k_entities.end()) {
        return usage_error("unknown entity '{}' (one of: {})", printable(item.substr(0, 60)),
                           fmt::join(k_entities, ", "));
      }
      if (std::ranges::find(out, item) == out.end()) {
        out.emplace_back(item);
      }
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  if (out.empty()) {
    return usage_error("a webhook includes at least one entity (-i api:release,api:build,...)");
  }
  return out;
}

std::string webhook_url_host(std::string_view url) {
  auto scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.starts_with('[')) {
    return std::string(rest.substr(1, rest.find(']') - 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

Expected<void> validate_webhook_url(std::string_view url) {
  auto refuse = [&](std::string_view why) -> Expected<void> {
    return usage_error("invalid webhook URL '{}': {}", printable(url.substr(0, 200)), why);
  };
  if (url.size() > 1024 || std::ranges::any_of(url, [](char c) { return c <= ' ' || c >= 127; })) {
    return refuse("at most 1024 printable characters, no spaces");
  }
  if (!url.starts_with("https://") && !url.starts_with("http://")) {
    return refuse("it must start with https:// or http://");
  }
  std::string_view authority = url.substr(url.find("://") + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return refuse("a user or password in the URL would be shown: use -t AUTHORIZATION");
  }
  std::string host = webhook_url_host(url);
  if (host.empty() || std::ranges::any_of(host, [](char c) {
        return !(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':');
      })) {
    return refuse("it has no valid host");
  }
  return {};
}

Expected<std::vector<Webhook>> load_webhooks(const Layout& layout, const WebhookOwner& owner) {
  fs::path file = webhooks_file(layout, owner);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(file, ec))) {
    return std::vector<Webhook>{};
  }
  auto text = TRY(read_file(file));
  std::string origin = file.string();
  try {
    auto table = toml::parse(text, origin);
    std::vector<Webhook> webhooks;
    const toml::array* list = table["webhook"].as_array();
    if (!list && table.size() != 0) {
      return fail("{}: expected [[webhook]] tables", origin);
    }
    for (const auto& node : list ? *list : toml::array{}) {
      const toml::table* entry = node.as_table();
      auto string = [&](const char* key) {
        return entry ? (*entry)[key].value_or<std::string>("") : std::string();
      };
      Webhook webhook{.id = string("id"),
                      .url = string("url"),
                      .secret = string("secret"),
                      .authorization = string("authorization")};
      auto include = parse_webhook_include(string("include"));
      auto level = parse_webhook_level(string("level"));
      auto format = parse_webhook_format(string("format"));
      auto created = entry ? (*entry)["created_at"].value<toml::date_time>() : std::nullopt;
      auto updated = entry ? (*entry)["updated_at"].value<toml::date_time>() : std::nullopt;
      if (!entry || webhook.id.empty() || !validate_webhook_url(webhook.url) || !include ||
          !level || !format || webhook.secret.empty() || !created || !updated) {
        return fail("{}: a [[webhook]] must hold id, url, include, level, secret, "
                    "authorization, format, created_at and updated_at",
                    origin);
      }
      webhook.include = std::move(*include);
      webhook.level = *level;
      webhook.format = *format;
      webhook.created_at = from_toml_time(*created);
      webhook.updated_at = from_toml_time(*updated);
      // Older files have none: such a webhook is told of every event the sender reads.
      auto after = entry->get("after_event");
      if (after && (!after->is_integer() || *after->value<std::int64_t>() < 0)) {
        return fail("{}: a [[webhook]]'s after_event must be an event id", origin);
      }
      webhook.after_event = after ? static_cast<std::uint64_t>(*after->value<std::int64_t>()) : 0;
      webhooks.push_back(std::move(webhook));
    }
    return webhooks;
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt (at line {})", origin, error.source().begin.line);
  }
}

bool predates(const Webhook& webhook, std::uint64_t event_id, TimePoint event_time) {
  // created_at is kept to the second.
  return event_id <= webhook.after_event &&
         event_time < webhook.created_at + std::chrono::seconds(1);
}

Expected<void> save_webhooks(const Layout& layout, const WebhookOwner& owner,
                             const std::vector<Webhook>& webhooks) {
  toml::array list;
  for (const auto& webhook : webhooks) {
    list.push_back(toml::table{{"id", webhook.id},
                               {"url", webhook.url},
                               {"include", fmt::format("{}", fmt::join(webhook.include, ","))},
                               {"level", std::string(to_string(webhook.level))},
                               {"secret", webhook.secret},
                               {"authorization", webhook.authorization},
                               {"format", std::string(to_string(webhook.format))},
                               {"created_at", to_toml_time(webhook.created_at)},
                               {"updated_at", to_toml_time(webhook.updated_at)},
                               {"after_event", static_cast<std::int64_t>(webhook.after_event)}});
  }
  toml::table table;
  if (!list.empty()) {
    table.insert("webhook", std::move(list));
  }
  std::ostringstream out;
  out << table << "\n";
  std::error_code ec;
  fs::create_directories(webhooks_file(layout, owner).parent_path(), ec);
  return write_file_atomic(webhooks_file(layout, owner), out.str(), 0600);
}

Expected<FileLock> lock_webhooks(const Layout& layout, const WebhookOwner& owner) {
  fs::path file = webhooks_file(layout, owner);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  return FileLock::acquire(file.parent_path() / (file.stem().string() + ".lock"),
                           FileLock::Mode::exclusive);
}

nlohmann::json delivery_json(const WebhookDelivery& delivery) {
  return {{"id", delivery.id},
          {"webhook_id", delivery.webhook_id},
          {"pipeline_id", delivery.pipeline_id},
          {"app", delivery.app},
          {"event_id", delivery.event_id},
          {"stream_id", delivery.stream_id},
          {"entity", delivery.entity},
          {"status", delivery.status},
          {"attempts", delivery.attempts},
          {"created_at_ms", seconds_of(delivery.created_at)},
          {"updated_at_ms", seconds_of(delivery.updated_at)},
          {"next_attempt_at_ms", seconds_of(delivery.next_attempt_at)},
          {"last_code", delivery.last_code},
          {"last_error", delivery.last_error},
          {"last_ms", delivery.last_ms},
          {"body", delivery.body}};
}

Expected<WebhookDelivery> parse_delivery(const nlohmann::json& json) {
  try {
    return WebhookDelivery{.id = json.at("id").get<std::string>(),
                           .webhook_id = json.at("webhook_id").get<std::string>(),
                           .pipeline_id = json.value("pipeline_id", ""),
                           .app = json.at("app").get<std::string>(),
                           .event_id = json.at("event_id").get<std::string>(),
                           .stream_id = json.at("stream_id").get<std::uint64_t>(),
                           .entity = json.at("entity").get<std::string>(),
                           .status = json.at("status").get<std::string>(),
                           .attempts = json.at("attempts").get<int>(),
                           .created_at = time_of(json.at("created_at_ms").get<std::int64_t>()),
                           .updated_at = time_of(json.at("updated_at_ms").get<std::int64_t>()),
                           .next_attempt_at =
                               time_of(json.at("next_attempt_at_ms").get<std::int64_t>()),
                           .last_code = json.at("last_code").get<int>(),
                           .last_error = json.at("last_error").get<std::string>(),
                           .last_ms = json.at("last_ms").get<long>(),
                           .body = json.at("body").get<std::string>()};
  } catch (const nlohmann::json::exception& error) {
    return fail("malformed delivery: {}", error.what());
  }
}

Expected<void> save_delivery(const Layout& layout, const WebhookDelivery& delivery,
                             Durability durability) {
  fs::path dir = deliveries_dir(layout);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fs::create_directories(dir, ec);
    ::chmod(dir.parent_path().c_str(), 0700);
  }
  fs::path file = dir / (delivery.id + ".json");
  std::string content = delivery_json(delivery).dump() + "\n";
  if (durability == Durability::durable) {
    return write_file_atomic(file, content, 0600);
  }
  // A record only: replaced whole (a reader never sees half of it), not waited for on disk.
  fs::path temp = dir / ("." + delivery.id + ".tmp");
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) {
      return fail("cannot write {}: {}", temp.string(), std::strerror(errno));
    }
    TRY(write_all(fd.get(), content));
  }
  if (::rename(temp.c_str(), file.c_str()) != 0) {
    return fail("cannot replace {}: {}", file.string(), std::strerror(errno));
  }
  return {};
}

std::vector<WebhookDelivery> load_deliveries(const Layout& layout) {
  std::vector<WebhookDelivery> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(deliveries_dir(layout), ec)) {
    if (entry.path().extension() != ".json") {
      continue;
    }
    auto text = read_file(entry.path());
    auto json = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (auto delivery = json.is_object() ? parse_delivery(json) : fail("")) {
      out.push_back(std::move(*delivery));
    }
  }
  std::ranges::sort(out, [](const WebhookDelivery& a, const WebhookDelivery& b) {
    return std::tie(a.created_at, a.stream_id, a.id) < std::tie(b.created_at, b.stream_id, b.id);
  });
  return out;
}

void prune_deliveries(const Layout& layout, TimePoint now) {
  auto deliveries = load_deliveries(layout);
  std::map<std::string, std::size_t> kept; // newest first, per webhook
  std::error_code ec;
  for (auto it = deliveries.rbegin(); it != deliveries.rend(); ++it) {
    bool finished = it->status != "pending" && it->status != "retrying";
    bool old = now - it->created_at > k_kept_for;
    if (finished && (old || ++kept[it->webhook_id] > k_kept_per_webhook)) {
      fs::remove(deliveries_dir(layout) / (it->id + ".json"), ec);
    }
  }
}

} // namespace slipway
