// Talking to `slipway daemon` over ROOT/run/slipway.sock. One request per connection: a
// JSON object on one line; the daemon answers with lines {"output": "..."} as it works and
// a last line {"result": ...} or {"error": "..."}, and {"alive": true} every two seconds
// while it works. Every call has a deadline on silence: a daemon that is stopped or hung is
// an error that says so, never a wait without end, while long work is no timeout.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "runtime/layout.hpp"

namespace slipway {

inline constexpr std::chrono::milliseconds k_daemon_timeout = std::chrono::seconds(10);

// The daemon's result, or nullopt when no daemon is running for this root. An error is
// the daemon's own answer, a connection that broke before the answer, or `timeout` without
// a word from the daemon.
Expected<std::optional<nlohmann::json>>
call_daemon(const Layout& layout, const nlohmann::json& request,
            const std::function<void(std::string_view)>& on_output = {},
            std::chrono::milliseconds timeout = k_daemon_timeout);

// As call_daemon, for commands that need the daemon: not running is an error.
Expected<nlohmann::json> require_daemon(const Layout& layout, const nlohmann::json& request,
                                        const std::function<void(std::string_view)>& on_output = {},
                                        std::chrono::milliseconds timeout = k_daemon_timeout);

} // namespace slipway
