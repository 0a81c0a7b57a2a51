#include "compiler/git_host_event.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/config.hpp"
#include "common/hash.hpp"
#include "common/output.hpp"

namespace slipway {

namespace {

using Json = nlohmann::json;

bool is_zero_id(std::string_view id) {
  return !id.empty() && id.find_first_not_of('0') == std::string_view::npos;
}

// The payload's member at `path` ("pull_request.head.sha"), if it is there.
const Json* member(const Json& root, std::string_view path) {
  const Json* node = &root;
  while (!path.empty()) {
    auto dot = path.find('.');
    std::string key(path.substr(0, dot));
    if (!node->is_object()) {
      return nullptr;
    }
    auto found = node->find(key);
    if (found == node->end()) {
      return nullptr;
    }
    node = &*found;
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return node;
}

// Reads the members a payload must have, naming the first that is missing or mistyped.
class Reader {
 public:
  Reader(const Json& root, std::string_view event) : m_root(root), m_event(event) {}

  Expected<std::string> string(std::string_view path) const {
    const Json* node = member(m_root, path);
    if (!node || !node->is_string()) {
      return usage_error("the {} payload has no string '{}'", m_event, path);
    }
    return node->get<std::string>();
  }
  std::string optional_string(std::string_view path) const {
    const Json* node = member(m_root, path);
    return node && node->is_string() ? node->get<std::string>() : "";
  }
  Expected<std::string> commit(std::string_view path) const {
    std::string id = TRY(string(path));
    if (!is_commit_id(id)) {
      return usage_error("the {} payload's '{}' is not a commit id", m_event, path);
    }
    return id;
  }
  Expected<int> number(std::string_view path) const {
    const Json* node = member(m_root, path);
    if (!node || !node->is_number_integer() || node->get<std::int64_t>() < 1 ||
        node->get<std::int64_t>() > 1'000'000'000) {
      return usage_error("the {} payload has no positive number '{}'", m_event, path);
    }
    return node->get<int>();
  }
  bool flag(std::string_view path) const {
    const Json* node = member(m_root, path);
    return node && node->is_boolean() && node->get<bool>();
  }
  // The member as text for comparing ids: a number or a string; "" when absent or null.
  std::string id(std::string_view path) const {
    const Json* node = member(m_root, path);
    if (!node || node->is_null()) {
      return "";
    }
    return node->is_string() ? node->get<std::string>() : node->dump();
  }
  Expected<void> object(std::string_view path) const {
    const Json* node = member(m_root, path);
    if (!node || !node->is_object()) {
      return usage_error("the {} payload has no object '{}'", m_event, path);
    }
    return {};
  }
  std::vector<std::string> urls(std::initializer_list<std::string_view> paths) const {
    std::vector<std::string> out;
    for (auto path : paths) {
      if (auto url = optional_string(path); !url.empty()) {
        out.push_back(std::move(url));
      }
    }
    return out;
  }

 private:
  const Json& m_root;
  std::string_view m_event;
};

// A push's ref and new commit: refs/heads/B moving to a commit, or deleted.
Expected<void> read_push(const Reader& read, GitHostEvent& event) {
  std::string ref = TRY(read.string("ref"));
  std::string after = TRY(read.string("after"));
  if (ref.starts_with("refs/heads/")) {
    event.branch = ref.substr(11);
    if (!is_branch_name(event.branch)) {
      return usage_error("the push payload's branch '{}' is not a branch name",
                         printable(event.branch.substr(0, 100)));
    }
  }
  if (is_zero_id(after) || read.flag("deleted")) {
    return {};
  }
  event.after = TRY(read.commit("after"));
  return {};
}

Expected<void> read_head(const Reader& read, GitHostEvent& event, std::string_view branch,
                         std::string_view commit) {
  event.head_branch = TRY(read.string(branch));
  if (!is_branch_name(event.head_branch)) {
    return usage_error("the pull request's branch '{}' is not a branch name",
                       printable(event.head_branch.substr(0, 100)));
  }
  event.head_commit = TRY(read.commit(commit));
  return {};
}

// A pull request as GitHub and Gitea say it (they differ in the word for new commits and
// where the repositories' ids are): opened, updated, merged, closed, or the host's word.
Expected<void> read_pull_request(const Reader& read, GitHostEvent& event,
                                 std::string_view updated_word, std::string_view head_repo,
                                 std::string_view base_repo) {
  event.kind = GitHostEvent::Kind::pull_request;
  TRY(read.object("repository"));
  TRY(read.object("pull_request"));
  std::string action = TRY(read.string("action"));
  event.number = TRY(read.number("number"));
  TRY(read_head(read, event, "pull_request.head.ref", "pull_request.head.sha"));
  event.actor = read.optional_string("sender.login");
  if (action == "opened" || action == "reopened") {
    event.action = "opened";
  } else if (action == updated_word) {
    event.action = "updated";
  } else if (action == "closed") {
    event.action = read.flag("pull_request.merged") ? "merged" : "closed";
  } else {
    event.action = action;
  }
  std::string head = read.id(head_repo);
  event.from_fork = head.empty() || head != read.id(base_repo);
  return {};
}

Expected<GitHostEvent> parse_github(std::string_view name, const Json& root) {
  GitHostEvent event{.name = std::string(name)};
  Reader read(root, name);
  event.repository_urls = read.urls(
      {"repository.clone_url", "repository.ssh_url", "repository.html_url", "repository.git_url"});
  if (name == "ping") {
    event.kind = GitHostEvent::Kind::ping;
    return event;
  }
  if (name == "push") {
    event.kind = GitHostEvent::Kind::push;
    TRY(read.object("repository"));
    TRY(read_push(read, event));
    event.actor = read.optional_string("pusher.name");
    if (event.actor.empty()) {
      event.actor = read.optional_string("sender.login");
    }
    return event;
  }
  if (name == "pull_request") {
    // A fork's repository, or none when the fork was deleted.
    TRY(read_pull_request(read, event, "synchronize", "pull_request.head.repo.id",
                          "pull_request.base.repo.id"));
    return event;
  }
  return event;
}

Expected<GitHostEvent> parse_gitlab(std::string_view name, const Json& root) {
  GitHostEvent event{.name = std::string(name)};
  Reader read(root, name);
  event.repository_urls =
      read.urls({"project.git_http_url", "project.git_ssh_url", "project.web_url",
                 "repository.git_http_url", "repository.git_ssh_url", "repository.homepage"});
  std::string kind = read.optional_string("object_kind");
  if (name == "Push Hook" || (name.empty() && kind == "push")) {
    if (kind != "push") {
      return usage_error("a Push Hook payload's object_kind is \"push\"");
    }
    event.kind = GitHostEvent::Kind::push;
    TRY(read.object("project"));
    TRY(read_push(read, event));
    event.actor = read.optional_string("user_username");
    if (event.actor.empty()) {
      event.actor = read.optional_string("user_name");
    }
    return event;
  }
  if (name == "Merge Request Hook" || (name.empty() && kind == "merge_request")) {
    if (kind != "merge_request") {
      return usage_error("a Merge Request Hook payload's object_kind is \"merge_request\"");
    }
    event.kind = GitHostEvent::Kind::pull_request;
    TRY(read.object("project"));
    TRY(read.object("object_attributes"));
    event.number = TRY(read.number("object_attributes.iid"));
    TRY(read_head(read, event, "object_attributes.source_branch",
                  "object_attributes.last_commit.id"));
    event.actor = read.optional_string("user.username");
    std::string action = read.optional_string("object_attributes.action");
    if (action == "open" || action == "reopen") {
      event.action = "opened";
    } else if (action == "update") {
      event.action = "updated";
    } else if (action == "merge") {
      event.action = "merged";
    } else if (action == "close") {
      event.action = "closed";
    } else {
      event.action = action.empty() ? "unknown" : action;
    }
    std::string source = read.id("object_attributes.source_project_id");
    event.from_fork = source.empty() || source != read.id("object_attributes.target_project_id");
    return event;
  }
  return event;
}

Expected<GitHostEvent> parse_gitea(std::string_view name, const Json& root) {
  GitHostEvent event{.name = std::string(name)};
  Reader read(root, name);
  event.repository_urls =
      read.urls({"repository.clone_url", "repository.ssh_url", "repository.html_url"});
  if (name == "push") {
    event.kind = GitHostEvent::Kind::push;
    TRY(read.object("repository"));
    TRY(read_push(read, event));
    event.actor = read.optional_string("pusher.login");
    if (event.actor.empty()) {
      event.actor = read.optional_string("pusher.username");
    }
    return event;
  }
  if (name == "pull_request" || name == "pull_request_sync") {
    TRY(read_pull_request(read, event, "synchronized", "pull_request.head.repo_id",
                          "pull_request.base.repo_id"));
    return event;
  }
  return event;
}

std::string_view strip_prefix(std::string_view text, std::string_view prefix) {
  return text.starts_with(prefix) ? text.substr(prefix.size()) : std::string_view();
}

} // namespace

std::string_view to_string(GitHost host) {
  switch (host) {
  case GitHost::github:
    return "github";
  case GitHost::gitlab:
    return "gitlab";
  case GitHost::gitea:
    return "gitea";
  case GitHost::forgejo:
    return "forgejo";
  }
  return "github";
}

Expected<GitHost> parse_git_host(std::string_view text) {
  for (GitHost host : {GitHost::github, GitHost::gitlab, GitHost::gitea, GitHost::forgejo}) {
    if (text == to_string(host)) {
      return host;
    }
  }
  return usage_error("unknown git host '{}' (github, gitlab, gitea or forgejo)",
                     printable(text.substr(0, 40)));
}

std::string_view webhook_path(GitHost host) {
  switch (host) {
  case GitHost::github:
    return "/hooks/github";
  case GitHost::gitlab:
    return "/hooks/gitlab";
  case GitHost::gitea:
  case GitHost::forgejo:
    return "/hooks/gitea";
  }
  return "/hooks/github";
}

bool verify_webhook(GitHost format, const HeaderLookup& header, std::string_view body,
                    std::string_view secret) {
  if (secret.empty()) {
    return false;
  }
  switch (format) {
  case GitHost::github: {
    std::string_view signature = strip_prefix(header("X-Hub-Signature-256"), "sha256=");
    return !signature.empty() && equal_in_constant_time(hmac_sha256_hex(secret, body), signature);
  }
  case GitHost::gitlab: {
    std::string_view token = header("X-Gitlab-Token");
    return !token.empty() && equal_in_constant_time(secret, token);
  }
  case GitHost::gitea:
  case GitHost::forgejo: {
    std::string_view signature = header("X-Gitea-Signature");
    if (signature.empty()) {
      signature = header("X-Forgejo-Signature");
    }
    return !signature.empty() && equal_in_constant_time(hmac_sha256_hex(secret, body), signature);
  }
  }
  return false;
}

std::string_view delivery_header(GitHost format, const HeaderLookup& header) {
  switch (format) {
  case GitHost::github:
    return header("X-GitHub-Delivery");
  case GitHost::gitlab: {
    // Idempotency-Key stays the same across GitLab's retries (17.4 on); the event's UUID
    // before that.
    std::string_view key = header("Idempotency-Key");
    return key.empty() ? header("X-Gitlab-Event-UUID") : key;
  }
  case GitHost::gitea:
  case GitHost::forgejo: {
    std::string_view id = header("X-Gitea-Delivery");
    return id.empty() ? header("X-Forgejo-Delivery") : id;
  }
  }
  return "";
}

Expected<GitHostEvent> parse_git_host_event(GitHost format, std::string_view event_name,
                                            std::string_view body) {
  if (event_name.size() > 100 || std::ranges::any_of(event_name, [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      })) {
    return usage_error("the event header is not an event's name");
  }
  auto root = Json::parse(body, nullptr, false);
  if (root.is_discarded()) {
    return usage_error("the payload is not JSON");
  }
  if (!root.is_object()) {
    return usage_error("the payload is not a JSON object");
  }
  switch (format) {
  case GitHost::github:
    return parse_github(event_name, root);
  case GitHost::gitlab:
    return parse_gitlab(event_name, root);
  case GitHost::gitea:
  case GitHost::forgejo:
    return parse_gitea(event_name, root);
  }
  return usage_error("unknown host format");
}

} // namespace slipway
