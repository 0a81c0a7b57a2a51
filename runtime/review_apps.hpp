// Review apps: a disposable app per branch of a pipeline's repository (Heroku Flow's). A
// review app is an ordinary app coupled to its pipeline's review stage, with a [review] table
// in its app.toml (stage.hpp's ReviewOrigin) naming its branch and the app whose repository
// has it; the pipeline keeps whether review apps are enabled and how (pipelines.hpp), and the
// config every review app starts with, which is never the parent's (review-config/ID.toml).
// What happens on a push, and who may do what: ops/review_apps.hpp.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "runtime/apps.hpp"
#include "runtime/layout.hpp"
#include "runtime/pipelines.hpp"
#include "runtime/release.hpp"

namespace slipway {

// The name of a new review app: PIPELINE-BRANCH, lowercased, every character an app name
// cannot hold made '-', runs of '-' made one, no '-' at the end; longer than an app name may
// be, or `taken` by another app, it is cut and given a suffix of the branch's hash
// (PIPELINE-BRAN-1a2b3c4). An error when even that is taken.
Expected<std::string> review_app_name(std::string_view pipeline, std::string_view branch,
                                      const std::function<bool(const std::string&)>& taken);

// The app whose repository's branches get review apps: the pipeline's development app (the
// first by name), else its staging app; none when it has neither.
std::optional<PipelineMember> review_parent(const Layout& layout, const std::string& pipeline_id);

// The review apps of the pipeline, by name.
struct ReviewApp {
  std::string app;
  std::string app_id;
  ReviewOrigin origin;
};
std::vector<ReviewApp> review_apps_of(const Layout& layout, const std::string& pipeline_id);

// The pipeline's review config vars: what every review app starts with. A missing file is
// none; a damaged one is an error naming it.
Expected<ConfigVars> load_review_config(const Layout& layout, const std::string& pipeline_id);

// Replaces them (atomically, 0600). Callers hold layout.pipelines_lock().
Expected<void> save_review_config(const Layout& layout, const std::string& pipeline_id,
                                  const ConfigVars& config);

} // namespace slipway
