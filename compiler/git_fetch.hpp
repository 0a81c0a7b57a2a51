// Fetching from a git host into one of slipway's bare repositories, with libgit2: over
// https or http with a token, or over ssh with a deploy key, both held in memory only (never
// in a file, an argument or the environment). An ssh host's key is pinned: the first fetch
// learns it, and a later fetch from a host that shows another key is refused.
//
// libgit2 1.5 has no network timeouts, so the fetch runs in a child process of its own that
// is killed when `timeout` passes.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace slipway::git {

struct FetchRequest {
  std::filesystem::path repo_dir;    // a bare repository
  std::string url;                   // validated by the caller (connections.hpp's parse_repo_url)
  std::vector<std::string> refspecs; // "+refs/heads/main:refs/slipway/connection/main"
  // Over http(s): a user name and a token (both empty: none). Over ssh: the user (from the
  // URL, else "git") and a private key in PEM or OpenSSH form.
  std::string username;
  std::string token;
  std::string ssh_key;
  std::string host_key; // ssh: "SHA256:HEX" of the key the host must show; "": learn it
  std::chrono::milliseconds timeout = std::chrono::minutes(10);
};

struct FetchResult {
  std::string host_key; // ssh: "SHA256:HEX" of the host's key; "" over http(s)
};

Expected<FetchResult> fetch(const FetchRequest& request);

} // namespace slipway::git
