// Webhook deliveries as GitHub, GitLab and Gitea send them: their headers, and payloads
// shaped as each host's documentation shows them (the members slipway reads and the usual
// company around them).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/hash.hpp"

namespace slipway::test {

// "acme/shop" of "http://127.0.0.1:PORT/acme/shop.git".
inline std::string full_name(const std::string& url) {
  std::string path = url.substr(0, url.size() - 4);
  auto owner = path.rfind('/', path.rfind('/') - 1);
  return path.substr(owner + 1);
}

// A webhook as each host sends it: headers and a payload shaped as its documentation shows.
struct Delivery {
  std::vector<std::string> headers;
  std::string body;
};

inline nlohmann::json github_repository(const std::string& url) {
  return {{"id", 1296269},
          {"node_id", "MDEwOlJlcG9zaXRvcnkxMjk2MjY5"},
          {"name", "shop"},
          {"full_name", full_name(url)},
          {"private", true},
          {"owner", {{"login", "acme"}, {"id", 1}, {"type", "Organization"}}},
          {"html_url", url.substr(0, url.size() - 4)},
          {"clone_url", url},
          {"git_url", "git://github.com/" + full_name(url) + ".git"},
          {"ssh_url", "git@github.com:" + full_name(url) + ".git"},
          {"default_branch", "main"}};
}

inline Delivery github_delivery(const std::string& event, const nlohmann::json& payload,
                                const std::string& secret, const std::string& delivery) {
  std::string body = payload.dump();
  return {.headers = {"X-GitHub-Event: " + event, "X-GitHub-Delivery: " + delivery,
                      "X-GitHub-Hook-ID: 292430182", "User-Agent: GitHub-Hookshot/044aadd",
                      "X-Hub-Signature-256: sha256=" + hmac_sha256_hex(secret, body)},
          .body = body};
}

inline nlohmann::json github_push(const std::string& url, const std::string& before,
                                  const std::string& after) {
  return {{"ref", "refs/heads/main"},
          {"before", before},
          {"after", after},
          {"created", false},
          {"deleted", false},
          {"forced", false},
          {"base_ref", nullptr},
          {"compare", "https://github.com/acme/shop/compare/" + before.substr(0, 12) + "..." +
                          after.substr(0, 12)},
          {"commits",
           {{{"id", after},
             {"message", "change"},
             {"author", {{"name", "Octo Cat"}, {"email", "octocat@github.com"}}},
             {"added", nlohmann::json::array()},
             {"removed", nlohmann::json::array()},
             {"modified", {"public/index.html"}}}}},
          {"head_commit", {{"id", after}, {"message", "change"}}},
          {"repository", github_repository(url)},
          {"pusher", {{"name", "octocat"}, {"email", "octocat@github.com"}}},
          {"sender", {{"login", "octocat"}, {"id", 583231}, {"type", "User"}}}};
}

inline nlohmann::json github_pull(const std::string& url, const std::string& action, int number,
                                  const std::string& head, bool merged = false) {
  nlohmann::json repo = github_repository(url);
  return {
      {"action", action},
      {"number", number},
      {"pull_request",
       {{"id", 1000 + number},
        {"number", number},
        {"state", action == "closed" ? "closed" : "open"},
        {"title", "A feature"},
        {"user", {{"login", "octocat"}}},
        {"head", {{"label", "acme:feature"}, {"ref", "feature"}, {"sha", head}, {"repo", repo}}},
        {"base",
         {{"label", "acme:main"}, {"ref", "main"}, {"sha", std::string(40, 'a')}, {"repo", repo}}},
        {"merged", merged},
        {"merge_commit_sha", nullptr}}},
      {"repository", repo},
      {"sender", {{"login", "octocat"}, {"id", 583231}}}};
}

inline nlohmann::json gitlab_project(const std::string& url) {
  std::string web = url.substr(0, url.size() - 4);
  return {{"id", 15},
          {"name", "shop"},
          {"web_url", web},
          {"git_ssh_url", "git@example.com:" + full_name(url) + ".git"},
          {"git_http_url", url},
          {"namespace", "Acme"},
          {"path_with_namespace", full_name(url)},
          {"default_branch", "main"},
          {"visibility_level", 0}};
}

inline Delivery gitlab_delivery(const std::string& event, const nlohmann::json& payload,
                                const std::string& token, const std::string& delivery) {
  return {.headers = {"X-Gitlab-Event: " + event, "X-Gitlab-Token: " + token,
                      "X-Gitlab-Event-UUID: " + delivery, "Idempotency-Key: " + delivery,
                      "X-Gitlab-Instance: https://gitlab.example.com", "User-Agent: GitLab/17.5.0"},
          .body = payload.dump()};
}

inline nlohmann::json gitlab_push(const std::string& url, const std::string& before,
                                  const std::string& after) {
  return {{"object_kind", "push"},
          {"event_name", "push"},
          {"before", before},
          {"after", after},
          {"ref", "refs/heads/main"},
          {"ref_protected", true},
          {"checkout_sha", after},
          {"user_id", 4},
          {"user_name", "John Smith"},
          {"user_username", "jsmith"},
          {"user_email", ""},
          {"project_id", 15},
          {"project", gitlab_project(url)},
          {"commits", {{{"id", after}, {"message", "change"}}}},
          {"total_commits_count", 1},
          {"repository",
           {{"name", "shop"},
            {"url", "git@example.com:" + full_name(url) + ".git"},
            {"homepage", url.substr(0, url.size() - 4)},
            {"git_http_url", url},
            {"git_ssh_url", "git@example.com:" + full_name(url) + ".git"}}}};
}

inline nlohmann::json gitlab_merge_request(const std::string& url, const std::string& action,
                                           int iid, const std::string& head) {
  std::string state = action == "merge" ? "merged" : action == "close" ? "closed" : "opened";
  return {{"object_kind", "merge_request"},
          {"event_type", "merge_request"},
          {"user", {{"id", 1}, {"name", "Administrator"}, {"username", "root"}}},
          {"project", gitlab_project(url)},
          {"object_attributes",
           {{"id", 99},
            {"iid", iid},
            {"target_branch", "main"},
            {"source_branch", "feature"},
            {"source_project_id", 15},
            {"target_project_id", 15},
            {"state", state},
            {"merge_status", "unchecked"},
            {"title", "A feature"},
            {"last_commit", {{"id", head}, {"message", "feature"}}},
            {"action", action}}},
          {"labels", nlohmann::json::array()},
          {"changes", nlohmann::json::object()},
          {"repository", {{"name", "shop"}, {"url", url}, {"homepage", url}}}};
}

inline nlohmann::json gitea_repository(const std::string& url) {
  return {{"id", 1},
          {"owner", {{"id", 1}, {"login", "acme"}, {"username", "acme"}}},
          {"name", "shop"},
          {"full_name", full_name(url)},
          {"private", true},
          {"fork", false},
          {"html_url", url.substr(0, url.size() - 4)},
          {"ssh_url", "git@gitea.example.com:" + full_name(url) + ".git"},
          {"clone_url", url},
          {"default_branch", "main"}};
}

inline Delivery gitea_delivery(const std::string& event, const std::string& type,
                               const nlohmann::json& payload, const std::string& secret,
                               const std::string& delivery) {
  std::string body = payload.dump();
  return {.headers = {"X-Gitea-Event: " + event, "X-Gitea-Event-Type: " + type,
                      "X-Gitea-Delivery: " + delivery, "X-Gogs-Event: " + event,
                      "X-Gitea-Signature: " + hmac_sha256_hex(secret, body)},
          .body = body};
}

inline nlohmann::json gitea_push(const std::string& url, const std::string& before,
                                 const std::string& after) {
  return {{"ref", "refs/heads/main"},
          {"before", before},
          {"after", after},
          {"compare_url", ""},
          {"commits", {{{"id", after}, {"message", "change\n"}}}},
          {"total_commits", 1},
          {"head_commit", {{"id", after}, {"message", "change\n"}}},
          {"repository", gitea_repository(url)},
          {"pusher", {{"id", 2}, {"login", "gitea-dev"}, {"username", "gitea-dev"}}},
          {"sender", {{"id", 2}, {"login", "gitea-dev"}, {"username", "gitea-dev"}}}};
}

inline nlohmann::json gitea_pull(const std::string& url, const std::string& action, int number,
                                 const std::string& head, bool merged = false) {
  nlohmann::json repo = gitea_repository(url);
  return {
      {"action", action},
      {"number", number},
      {"pull_request",
       {{"id", 10 + number},
        {"number", number},
        {"user", {{"login", "gitea-dev"}}},
        {"title", "A feature"},
        {"state", action == "closed" ? "closed" : "open"},
        {"head",
         {{"label", "feature"}, {"ref", "feature"}, {"sha", head}, {"repo_id", 1}, {"repo", repo}}},
        {"base",
         {{"label", "main"},
          {"ref", "main"},
          {"sha", std::string(40, 'a')},
          {"repo_id", 1},
          {"repo", repo}}},
        {"merged", merged},
        {"merge_base", std::string(40, 'a')}}},
      {"repository", repo},
      {"sender", {{"id", 2}, {"login", "gitea-dev"}}},
      {"review", nullptr}};
}

} // namespace slipway::test
