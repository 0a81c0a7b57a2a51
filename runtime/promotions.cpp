#include "runtime/promotions.hpp"

#include <algorithm>
#include <sstream>

#include <toml++/toml.h>

#include "common/files.hpp"
#include "common/random.hpp"

namespace slipway {

namespace fs = std::filesystem;

std::string Promotion::status() const {
  bool pending = std::ranges::any_of(
      targets, [](const PromotionTarget& target) { return target.status == "pending"; });
  return pending ? "pending" : "completed";
}

std::string promotion_to_toml(const Promotion& promotion) {
  toml::table table{{"id", promotion.id},
                    {"pipeline", promotion.pipeline_id},
                    {"source_app", promotion.source_app},
                    {"source_app_id", promotion.source_app_id},
                    {"source_version", promotion.source_version},
                    {"commit", promotion.commit},
                    {"slug", promotion.slug},
                    {"actor", promotion.actor},
                    {"created_at", to_toml_time(promotion.created_at)},
                    {"updated_at", to_toml_time(promotion.updated_at)},
                    {"started", promotion.started}};
  toml::array targets;
  for (const PromotionTarget& target : promotion.targets) {
    toml::table entry{{"id", target.id},
                      {"app", target.app},
                      {"app_id", target.app_id},
                      {"status", target.status}};
    if (!target.error_message.empty()) {
      entry.insert("error_message", target.error_message);
    }
    if (target.version) {
      entry.insert("version", *target.version);
    }
    targets.push_back(std::move(entry));
  }
  table.insert("target", std::move(targets));
  std::ostringstream out;
  out << table << "\n";
  return out.str();
}

Expected<Promotion> promotion_from_toml(std::string_view text, std::string_view origin) {
  Promotion promotion;
  try {
    auto table = toml::parse(text, origin);
    auto string = [&](const toml::table& from, std::string_view key,
                      std::string& into) -> Expected<void> {
      auto value = from[key].value_exact<std::string>();
      if (!value) {
        return fail("{}: '{}' must be a string", origin, key);
      }
      into = *value;
      return {};
    };
    auto time = [&](std::string_view key, TimePoint& into) -> Expected<void> {
      auto value = table[key].value_exact<toml::date_time>();
      if (!value) {
        return fail("{}: '{}' must be a date-time", origin, key);
      }
      into = from_toml_time(*value);
      return {};
    };
    TRY(string(table, "id", promotion.id));
    TRY(string(table, "pipeline", promotion.pipeline_id));
    TRY(string(table, "source_app", promotion.source_app));
    TRY(string(table, "source_app_id", promotion.source_app_id));
    TRY(string(table, "commit", promotion.commit));
    TRY(string(table, "slug", promotion.slug));
    TRY(string(table, "actor", promotion.actor));
    TRY(time("created_at", promotion.created_at));
    TRY(time("updated_at", promotion.updated_at));
    auto version = table["source_version"].value_exact<int64_t>();
    auto started = table["started"].value_exact<bool>();
    const toml::array* targets = table["target"].as_array();
    if (!version || !started || !targets || !is_uuid(promotion.id)) {
      return fail("{}: a promotion needs an id, source_version, started and [[target]]s", origin);
    }
    promotion.source_version = static_cast<int>(*version);
    promotion.started = *started;
    for (const auto& node : *targets) {
      const toml::table* entry = node.as_table();
      if (!entry) {
        return fail("{}: every target must be a table", origin);
      }
      PromotionTarget target;
      TRY(string(*entry, "id", target.id));
      TRY(string(*entry, "app", target.app));
      TRY(string(*entry, "app_id", target.app_id));
      TRY(string(*entry, "status", target.status));
      if (target.status != "pending" && target.status != "succeeded" && target.status != "failed") {
        return fail("{}: a target's status must be pending, succeeded or failed", origin);
      }
      target.error_message = (*entry)["error_message"].value_or(std::string());
      if (auto made = (*entry)["version"].value_exact<int64_t>()) {
        target.version = static_cast<int>(*made);
      }
      promotion.targets.push_back(std::move(target));
    }
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt: {}", origin, error.description());
  }
  return promotion;
}

namespace {

// Keeps the newest k_kept_promotions records (and their locks).
void prune_promotions(const Layout& layout) {
  std::vector<std::pair<fs::file_time_type, fs::path>> records;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(layout.promotions_dir(), ec)) {
    if (entry.path().extension() == ".toml") {
      records.emplace_back(entry.last_write_time(ec), entry.path());
    }
  }
  if (records.size() <= k_kept_promotions) {
    return;
  }
  std::ranges::sort(records);
  for (std::size_t i = 0; i + k_kept_promotions < records.size(); ++i) {
    fs::path lock = records[i].second;
    lock.replace_extension(".lock");
    fs::remove(records[i].second, ec);
    fs::remove(lock, ec);
  }
}

Expected<void> check_id(const std::string& id) {
  if (!is_uuid(id)) {
    return fail_as(ErrorKind::not_found, "promotion '{}' does not exist", id.substr(0, 40));
  }
  return {};
}

} // namespace

Expected<void> save_promotion(const Layout& layout, const Promotion& promotion) {
  TRY(check_id(promotion.id));
  std::error_code ec;
  fs::create_directories(layout.promotions_dir(), ec);
  bool fresh = !fs::exists(layout.promotion_file(promotion.id), ec);
  TRY(write_file_atomic(layout.promotion_file(promotion.id), promotion_to_toml(promotion)));
  if (fresh) {
    prune_promotions(layout);
  }
  return {};
}

Expected<FileLock> claim_promotion(const Layout& layout, const std::string& id) {
  TRY(check_id(id));
  std::error_code ec;
  fs::create_directories(layout.promotions_dir(), ec);
  // Readers hold it for a moment too (load_promotion): wait for them. A second runner waits
  // for the first to finish, then finds the record started and stops (run_promotion).
  return FileLock::acquire(layout.promotion_lock(id), FileLock::Mode::exclusive);
}

Expected<Promotion> load_promotion(const Layout& layout, const std::string& id) {
  TRY(check_id(id));
  std::error_code ec;
  if (!fs::exists(layout.promotion_file(id), ec)) {
    return fail_as(ErrorKind::not_found, "promotion '{}' does not exist", id);
  }
  auto read = [&]() -> Expected<Promotion> {
    return promotion_from_toml(TRY(read_file(layout.promotion_file(id))),
                               layout.promotion_file(id).string());
  };
  auto promotion = TRY(read());
  if (promotion.status() != "pending") {
    return promotion;
  }
  auto lock = TRY(FileLock::try_acquire(layout.promotion_lock(id), FileLock::Mode::exclusive));
  if (!lock) {
    return promotion; // its runner is at work
  }
  promotion = TRY(read()); // as its runner left it
  auto now = std::chrono::system_clock::now();
  if (promotion.status() != "pending" ||
      (!promotion.started && now - promotion.created_at < k_unclaimed_promotion)) {
    return promotion;
  }
  for (PromotionTarget& target : promotion.targets) {
    if (target.status == "pending") {
      target.status = "failed";
      target.error_message = promotion.started
                                 ? fmt::format("the promotion was interrupted before its "
                                               "result was recorded: see slipway releases -a {}",
                                               target.app)
                                 : "the promotion never started";
    }
  }
  promotion.updated_at = now;
  TRY(save_promotion(layout, promotion));
  return promotion;
}

} // namespace slipway
