// A promotion's record: one release of a source app made a new release of each target app,
// one after another (ops/pipelines.hpp runs it). ROOT/pipelines/promotions/ID.toml is what
// `pipelines:promote` prints its summary from and the Platform API's /pipeline-promotions
// answer from (the heroku CLI polls it); it is rewritten, atomically, as each target ends.
// Whoever promotes holds ID.lock meanwhile, so a record still pending whose lock is free was
// interrupted (its runner was killed): the next reader settles its pending targets as failed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/file_lock.hpp"
#include "common/time.hpp"
#include "runtime/layout.hpp"

namespace slipway {

struct PromotionTarget {
  std::string id; // a UUID
  std::string app;
  std::string app_id;
  std::string status = "pending"; // pending, succeeded, failed
  std::string error_message;      // why it failed
  std::optional<int> version;     // the target's release, once made
};

struct Promotion {
  std::string id; // a UUID
  std::string pipeline_id;
  std::string source_app;
  std::string source_app_id;
  int source_version = 0;
  std::string commit; // the source release's
  std::string slug;   // "sha256:HEX": the one every target runs
  std::string actor;  // who asked
  TimePoint created_at{};
  TimePoint updated_at{};
  bool started = false; // a runner claimed it
  std::vector<PromotionTarget> targets;

  // "pending" while a target is, else "completed" (Heroku's).
  std::string status() const;
};

// How long a promotion that no runner claimed stays pending before a reader settles it as
// failed (its runner never started).
inline constexpr std::chrono::seconds k_unclaimed_promotion = std::chrono::seconds(60);

// How many promotion records are kept (the oldest go when a new one is saved).
inline constexpr std::size_t k_kept_promotions = 200;

// Writes the record (atomically); a new one may push the oldest out.
Expected<void> save_promotion(const Layout& layout, const Promotion& promotion);

// The record of promotion `id` (validated here), settling it first when it was interrupted.
Expected<Promotion> load_promotion(const Layout& layout, const std::string& id);

// The lock its runner holds while promoting, once readers and any earlier runner let go.
Expected<FileLock> claim_promotion(const Layout& layout, const std::string& id);

std::string promotion_to_toml(const Promotion& promotion);
Expected<Promotion> promotion_from_toml(std::string_view text, std::string_view origin);

} // namespace slipway
