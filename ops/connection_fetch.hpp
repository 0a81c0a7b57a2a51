// Fetching a connected app's repository from its host (ops/ only: connections.cpp checks a
// new connection with it, connection_jobs.cpp fetches what a delivery names).
#pragma once

#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/error.hpp"
#include "runtime/connections.hpp"
#include "runtime/layout.hpp"

namespace slipway::ops {

// Where the connected branch's head is kept in the app's repository: out of refs/heads, so
// that it is neither deployed nor cloned until it is pushed to the deploy branch.
std::string connected_ref(const std::string& branch); // refs/slipway/connection/BRANCH

// The host's ref of pull request `number`'s head: refs/pull/N/head (GitHub, Gitea, Forgejo),
// refs/merge-requests/N/head (GitLab).
std::string host_pull_ref(GitHost host, int number);

// Fetches `refspecs` from the connection's repository into the app's, with its credential (a
// token over http(s), a deploy key over ssh); refuses a host on the server's own network
// unless [git_hosts] allow_private. The first fetch over ssh pins the host's key.
Expected<void> fetch_connected(const Layout& layout, const Config& config, Connection& connection,
                               const std::vector<std::string>& refspecs);

} // namespace slipway::ops
