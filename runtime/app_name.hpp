// App and pipeline names: ^[a-z][a-z0-9-]{1,29}$. Checked before a name is ever part of a
// path.
#pragma once

#include <string_view>

#include "common/error.hpp"

namespace slipway {

Expected<void> validate_app_name(std::string_view name);

// Pipelines are named as apps are (they share no namespace with them).
Expected<void> validate_pipeline_name(std::string_view name);

} // namespace slipway
