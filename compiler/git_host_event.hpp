// What a git host's webhook says, in one shape for GitHub, GitLab and Gitea (Forgejo sends
// Gitea's): its signature checked with a connection's secret, then its payload parsed into
// a push, a pull request's change, a ping, or something slipway does nothing with (named, so
// that the reply can say why).
//
//   GitHub  X-GitHub-Event, X-GitHub-Delivery, X-Hub-Signature-256: sha256=HMAC-SHA256(body)
//   GitLab  X-Gitlab-Event, Idempotency-Key or X-Gitlab-Event-UUID, X-Gitlab-Token: SECRET
//   Gitea   X-Gitea-Event, X-Gitea-Delivery, X-Gitea-Signature: HMAC-SHA256(body) in hex
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace slipway {

enum class GitHost { github, gitlab, gitea, forgejo };

std::string_view to_string(GitHost host);
Expected<GitHost> parse_git_host(std::string_view text);
// The webhook endpoint of the host's format: Forgejo's is Gitea's.
std::string_view webhook_path(GitHost host); // "/hooks/github"

// A request header's value by name (case-insensitive), "" when absent.
using HeaderLookup = std::function<std::string_view(std::string_view name)>;

// Whether the request carries the host's proof of `secret` over `body` (compared in
// constant time). Hosts of the Gitea format: GitHost::gitea.
bool verify_webhook(GitHost format, const HeaderLookup& header, std::string_view body,
                    std::string_view secret);

// The delivery's id as the host sent it ("" when it sent none).
std::string_view delivery_header(GitHost format, const HeaderLookup& header);

struct GitHostEvent {
  enum class Kind { push, pull_request, ping, other };
  Kind kind = Kind::other;
  std::string name;                         // the host's name of the event ("push", "Push Hook")
  std::vector<std::string> repository_urls; // the URLs the payload gives its repository
  std::string actor;                        // the pusher, or who changed the pull request
  // push
  std::string branch; // "" when the ref is not a branch (a tag)
  std::string after;  // the commit the branch moved to; "" when it was deleted
  // pull request
  int number = 0;
  std::string action; // "opened", "updated", "closed", "merged", or the host's own word
  std::string head_branch;
  std::string head_commit;
  bool from_fork = false;
};

// Parses the payload of event `event_name` (the host's event header). A payload that is not
// the JSON the host documents is an error naming what is missing or wrong.
Expected<GitHostEvent> parse_git_host_event(GitHost format, std::string_view event_name,
                                            std::string_view body);

} // namespace slipway
