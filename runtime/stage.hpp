// Heroku's pipeline stages, in the order code moves through them, and an app's place in a
// pipeline (its coupling), kept in its app.toml (apps.hpp).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/time.hpp"

namespace slipway {

enum class Stage { review, development, staging, production };

inline constexpr std::array k_stages = {Stage::review, Stage::development, Stage::staging,
                                        Stage::production};

std::string_view to_string(Stage stage);

// "review", "development", "staging" or "production"; the error names them.
Expected<Stage> parse_stage(std::string_view text);

// Where a promotion goes from `stage` when no targets are named, and where its code comes
// from: development → staging → production, Heroku's order. Review apps are promoted only
// to named targets, and nothing is downstream of production.
std::optional<Stage> downstream_of(Stage stage);
std::optional<Stage> upstream_of(Stage stage);

struct PipelineCoupling {
  std::string id;       // the coupling's own UUID, new each time the app joins a pipeline
  std::string pipeline; // the pipeline's id
  Stage stage = Stage::development;
  TimePoint created_at{};
  TimePoint updated_at{};
};

// What makes an app a review app (review_apps.hpp): the branch of the pipeline's repository
// it follows and where that repository is, kept in its own app.toml ([review]) so that
// destroying the app needs no second write.
struct ReviewOrigin {
  std::string branch;
  std::string parent;     // the app whose repository has the branch
  std::string commit;     // the branch's head it last deployed or tried to
  TimePoint pushed_at{};  // the branch's last push: what --stale-days counts from
  std::string status;     // "creating" until its first deploy succeeded, then "created"
  std::string last_build; // "succeeded" or "failed" (the last deploy of the branch)
  std::string message;    // why the last deploy failed, in a line
  int pull_request = 0;   // a pull request's review app: its number (branch is its head's)
};

} // namespace slipway
