// App and pipeline names: ^[a-z][a-z0-9-]+$, an app's up to 63 characters (a DNS label:
// APP.DOMAIN, and room for a review app's PIPELINE-BRANCH), a pipeline's up to 30. Checked
// before a name is ever part of a path.
#pragma once

#include <string_view>

#include "common/error.hpp"

namespace slipway {

inline constexpr std::size_t k_max_app_name = 63;
inline constexpr std::size_t k_max_pipeline_name = 30;

Expected<void> validate_app_name(std::string_view name);

// A name a new app may take: a valid one that the server does not keep for itself ("dashboard":
// dashboard.DOMAIN is the dashboard's).
Expected<void> validate_new_app_name(std::string_view name);

// Pipelines are named as apps are (they share no namespace with them).
Expected<void> validate_pipeline_name(std::string_view name);

} // namespace slipway
