// Commit statuses on git hosts, read from the event stream: a connected app's deploy (the
// build events of a push the connection made), a pull request's review app (its review-app
// events), and a test run of either (its test-run events) become pending, success or
// failure on the commit, each host through its own status API:
//   GitHub  POST {api}/repos/OWNER/REPO/statuses/SHA      Authorization: Bearer TOKEN
//   GitLab  POST {api}/projects/OWNER%2FREPO/statuses/SHA PRIVATE-TOKEN: TOKEN
//   Gitea   POST {api}/repos/OWNER/REPO/statuses/SHA      Authorization: token TOKEN
// Only a connection with a token credential posts them (a deploy key only fetches).
#pragma once

#include <optional>
#include <string>

#include "common/config.hpp"
#include "common/http_client.hpp"
#include "runtime/connections.hpp"
#include "runtime/events.hpp"
#include "runtime/layout.hpp"

namespace slipway::notify {

struct CommitStatus {
  std::string app; // the connected app whose host gets it
  std::string commit;
  std::string state;       // "pending", "success", "failure", "error"
  std::string context;     // "slipway/APP", "slipway/review-app", "slipway/ci"
  std::string description; // at most 140 characters
  std::string target_url;  // "" when none
};

// The status `event` means, if any.
std::optional<CommitStatus> status_for(const Layout& layout, const Config& config,
                                       const Event& event);

// The host's request that posts it with `token`.
http::Request status_request(const Connection& connection, const std::string& token,
                             const CommitStatus& status);

} // namespace slipway::notify
