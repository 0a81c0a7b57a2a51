// What finished and interrupted operations leave, cleared off the push's path: `slipway
// housekeep -a APP`, which post-receive and the daemon's sweep start.
#pragma once

#include <string>

#include "common/config.hpp"
#include "common/error.hpp"
#include "runtime/layout.hpp"

namespace slipway {

// Settles what an interrupted operation left (operation.hpp), then what defer_deletions
// left: scratch dirs of finished operations (after bringing home a build cache a dead
// deploy held: build_cache.hpp) and unneeded slugs and unpacked trees (retention.hpp).
// Skips the scratch dirs while an operation on the app is running.
Expected<void> housekeep(const Layout& layout, const Config& config, const std::string& app);

} // namespace slipway
