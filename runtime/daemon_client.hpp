// Talking to `slipway daemon` over ROOT/run/slipway.sock. One request per connection: a
// JSON object on one line; the daemon answers with lines {"output": "..."} as it works and
// a last line {"result": ...} or {"error": "..."}, and {"alive": true} every two seconds
// while it works. Every call has a deadline on silence: a daemon that is stopped or hung is
// an error that says so, never a wait without end, while long work is no timeout.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "runtime/control.hpp"
#include "runtime/layout.hpp"

namespace slipway {

inline constexpr std::chrono::milliseconds k_daemon_timeout = std::chrono::seconds(10);

using OnOutput = std::function<void(std::string_view)>;

// The daemon's status, or nullopt when no daemon is running for this root.
Expected<std::optional<control::StatusResult>> daemon_status(const Layout& layout);

// Asks the daemon to start `version` of `app`, health-check it and switch to it, unless the
// caller is gone or `deadline` passed first. nullopt: no daemon is running (nothing was done).
Expected<std::optional<control::ActivateResult>>
activate_release(const Layout& layout, const std::string& app, int version,
                 std::chrono::system_clock::time_point deadline, const OnOutput& on_output = {},
                 bool release_phase = false);

// Asks the daemon to stop the app's processes and remove `current`; false: no daemon is
// running (nothing was done).
Expected<bool> deactivate_release(const Layout& layout, const std::string& app,
                                  const OnOutput& on_output = {});

// Asks the daemon to make the app's processes and routes match app.toml (or to drop an app
// that no longer exists); false: no daemon is running, so there is nothing to sync.
Expected<bool> sync_daemon(const Layout& layout, const std::string& app,
                           const OnOutput& on_output = {});

// The app's processes; a daemon is required.
Expected<std::vector<control::ProcessStatus>> daemon_processes(const Layout& layout,
                                                               const std::string& app);

// Runs `command` in a one-off task of a cluster app's live release, its output to
// `on_output`; its exit status. A daemon is required.
Expected<int> run_on_cluster(const Layout& layout, const std::string& app,
                             const std::string& command, const OnOutput& on_output = {});

// Restarts the app's processes (of `type`, one named "web.1", or all when empty) and
// returns how many; with `stop`, each stops before its replacement starts. A daemon is
// required.
Expected<int> restart_processes(const Layout& layout, const std::string& app,
                                const std::string& type, const OnOutput& on_output = {},
                                bool stop = false);

// The wire itself: `request` as given, and the daemon's `result`, or nullopt when no daemon
// is running for this root. An error is the daemon's own answer, a connection that broke
// before the answer, or `timeout` without a word from the daemon. For tests of what the
// daemon refuses; everything else uses the typed calls above.
Expected<std::optional<nlohmann::json>>
call_daemon_json(const Layout& layout, const nlohmann::json& request,
                 const OnOutput& on_output = {},
                 std::chrono::milliseconds timeout = k_daemon_timeout);

} // namespace slipway
