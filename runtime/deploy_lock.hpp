// One deploy, config change or rollback of an app at a time: an exclusive FileLock on
// apps/APP/deploy.lock.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/file_lock.hpp"
#include "runtime/layout.hpp"

namespace slipway {

// When another process holds the lock: with `wait`, says so through `on_wait` and blocks
// until it is free; without, fails at once with a message that says why.
Expected<FileLock> lock_app(const Layout& layout, const std::string& app, bool wait,
                            const std::function<void(std::string_view)>& on_wait);

} // namespace slipway
