// What is kept: for every app, the newest `keep_releases` releases and the live one keep
// their slugs; every other slug is removed. A release whose slug is gone is `expired`.
#pragma once

#include <cstddef>

#include "common/config.hpp"
#include "common/error.hpp"
#include "runtime/layout.hpp"

namespace slipway {

// Returns how many slugs were removed.
Expected<std::size_t> prune_slugs(const Layout& layout, const Config& config);

// Removes the unpacked files (releases/vN/app) of the app's releases that keep no slug:
// those beyond the newest `keep_releases`, except the live one. Returns how many went.
std::size_t prune_unpacked(const Layout& layout, const Config& config, const std::string& app);

} // namespace slipway
