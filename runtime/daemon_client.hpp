// Talking to `slipway daemon` over ROOT/run/slipway.sock. One request per connection: a
// JSON object on one line; the daemon answers with lines {"output": "..."} as it works and
// a last line {"result": ...} or {"error": "..."}.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "runtime/layout.hpp"

namespace slipway {

// The daemon's result, or nullopt when no daemon is running for this root. An error is
// the daemon's own answer, or a connection that broke before the answer.
Expected<std::optional<nlohmann::json>>
call_daemon(const Layout& layout, const nlohmann::json& request,
            const std::function<void(std::string_view)>& on_output = {});

// As call_daemon, for commands that need the daemon: not running is an error.
Expected<nlohmann::json>
require_daemon(const Layout& layout, const nlohmann::json& request,
               const std::function<void(std::string_view)>& on_output = {});

} // namespace slipway
