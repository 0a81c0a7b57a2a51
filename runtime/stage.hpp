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

} // namespace slipway
