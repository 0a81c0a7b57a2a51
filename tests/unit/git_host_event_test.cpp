#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/hash.hpp"
#include "compiler/git_host_event.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using Json = nlohmann::json;

namespace {

const std::string k_a = std::string(40, 'a');
const std::string k_b = std::string(40, 'b');

HeaderLookup headers(std::map<std::string, std::string> values) {
  auto owned = std::make_shared<std::map<std::string, std::string>>(std::move(values));
  return [owned](std::string_view name) -> std::string_view {
    auto found = owned->find(std::string(name));
    return found == owned->end() ? std::string_view() : std::string_view(found->second);
  };
}

Json github_pull(const std::string& action, bool merged, Json head_repo_id) {
  return {{"action", action},
          {"number", 12},
          {"pull_request",
           {{"merged", merged},
            {"head", {{"ref", "feature"}, {"sha", k_b}, {"repo", {{"id", head_repo_id}}}}},
            {"base", {{"ref", "main"}, {"sha", k_a}, {"repo", {{"id", 1}}}}}}},
          {"repository", {{"clone_url", "https://github.com/acme/shop.git"}}},
          {"sender", {{"login", "octocat"}}}};
}

} // namespace

TEST_CASE("each host's signature is checked over the exact body, with its own header",
          "[git-host-event]") {
  std::string body = R"({"ref":"refs/heads/main"})";
  std::string secret = "s3cret";
  std::string hex = hmac_sha256_hex(secret, body);
  CHECK(verify_webhook(GitHost::github, headers({{"X-Hub-Signature-256", "sha256=" + hex}}), body,
                       secret));
  CHECK_FALSE(
      verify_webhook(GitHost::github, headers({{"X-Hub-Signature-256", hex}}), body, secret));
  CHECK_FALSE(verify_webhook(GitHost::github, headers({{"X-Hub-Signature-256", "sha256=" + hex}}),
                             body + " ", secret));
  CHECK_FALSE(verify_webhook(GitHost::github, headers({}), body, secret));
  CHECK(verify_webhook(GitHost::gitlab, headers({{"X-Gitlab-Token", secret}}), body, secret));
  CHECK_FALSE(
      verify_webhook(GitHost::gitlab, headers({{"X-Gitlab-Token", "s3cre"}}), body, secret));
  CHECK(verify_webhook(GitHost::gitea, headers({{"X-Gitea-Signature", hex}}), body, secret));
  CHECK(verify_webhook(GitHost::gitea, headers({{"X-Forgejo-Signature", hex}}), body, secret));
  CHECK_FALSE(verify_webhook(GitHost::gitea, headers({{"X-Gitea-Signature", hex}}), body, ""));
}

TEST_CASE("a GitHub push names its branch, new commit and pusher, and a deleted branch and a tag "
          "are told apart",
          "[git-host-event]") {
  Json push{{"ref", "refs/heads/main"},
            {"before", k_a},
            {"after", k_b},
            {"deleted", false},
            {"repository", {{"clone_url", "https://github.com/acme/shop.git"}}},
            {"pusher", {{"name", "octocat"}}}};
  auto event = parse_git_host_event(GitHost::github, "push", push.dump());
  REQUIRE(event);
  CHECK(event->kind == GitHostEvent::Kind::push);
  CHECK(event->branch == "main");
  CHECK(event->after == k_b);
  CHECK(event->actor == "octocat");
  CHECK(event->repository_urls == std::vector<std::string>{"https://github.com/acme/shop.git"});

  push["after"] = std::string(40, '0');
  push["deleted"] = true;
  event = parse_git_host_event(GitHost::github, "push", push.dump());
  REQUIRE(event);
  CHECK(event->after.empty());

  push["ref"] = "refs/tags/v1";
  event = parse_git_host_event(GitHost::github, "push", push.dump());
  REQUIRE(event);
  CHECK(event->branch.empty());

  auto ping = parse_git_host_event(GitHost::github, "ping", R"({"zen":"Keep it simple."})");
  REQUIRE(ping);
  CHECK(ping->kind == GitHostEvent::Kind::ping);
  auto star = parse_git_host_event(GitHost::github, "star", R"({"action":"created"})");
  REQUIRE(star);
  CHECK(star->kind == GitHostEvent::Kind::other);
  CHECK(star->name == "star");
}

TEST_CASE("pull request actions become opened, updated, merged or closed on every host, and a "
          "fork is told",
          "[git-host-event]") {
  auto github = [](const std::string& action, bool merged, Json repo = 1) {
    return parse_git_host_event(GitHost::github, "pull_request",
                                github_pull(action, merged, repo).dump());
  };
  CHECK(github("opened", false)->action == "opened");
  CHECK(github("reopened", false)->action == "opened");
  CHECK(github("synchronize", false)->action == "updated");
  CHECK(github("closed", true)->action == "merged");
  CHECK(github("closed", false)->action == "closed");
  CHECK(github("labeled", false)->action == "labeled");
  CHECK(github("opened", false)->number == 12);
  CHECK(github("opened", false)->head_commit == k_b);
  CHECK(github("opened", false)->head_branch == "feature");
  CHECK_FALSE(github("opened", false)->from_fork);
  CHECK(github("opened", false, 2)->from_fork);
  CHECK(github("opened", false, nullptr)->from_fork); // the fork was deleted

  Json merge_request{{"object_kind", "merge_request"},
                     {"user", {{"username", "root"}}},
                     {"project", {{"git_http_url", "https://gitlab.com/acme/shop.git"}}},
                     {"object_attributes",
                      {{"iid", 3},
                       {"action", "update"},
                       {"source_branch", "feature"},
                       {"source_project_id", 15},
                       {"target_project_id", 15},
                       {"last_commit", {{"id", k_b}}}}}};
  auto gitlab = parse_git_host_event(GitHost::gitlab, "Merge Request Hook", merge_request.dump());
  REQUIRE(gitlab);
  CHECK(gitlab->action == "updated");
  CHECK(gitlab->number == 3);
  CHECK(gitlab->actor == "root");
  CHECK_FALSE(gitlab->from_fork);
  merge_request["object_attributes"]["source_project_id"] = 16;
  merge_request["object_attributes"]["action"] = "merge";
  gitlab = parse_git_host_event(GitHost::gitlab, "Merge Request Hook", merge_request.dump());
  REQUIRE(gitlab);
  CHECK(gitlab->action == "merged");
  CHECK(gitlab->from_fork);

  Json gitea_pull{{"action", "synchronized"},
                  {"number", 4},
                  {"pull_request",
                   {{"merged", false},
                    {"head", {{"ref", "feature"}, {"sha", k_b}, {"repo_id", 1}}},
                    {"base", {{"ref", "main"}, {"repo_id", 1}}}}},
                  {"repository", {{"clone_url", "https://gitea.example.com/acme/shop.git"}}},
                  {"sender", {{"login", "dev"}}}};
  auto gitea = parse_git_host_event(GitHost::gitea, "pull_request", gitea_pull.dump());
  REQUIRE(gitea);
  CHECK(gitea->action == "updated");
  CHECK_FALSE(gitea->from_fork);
}

TEST_CASE("a payload that is not what the host documents is refused with the member it lacks",
          "[git-host-event]") {
  auto refused = [](GitHost host, const std::string& event, const std::string& body) {
    auto parsed = parse_git_host_event(host, event, body);
    REQUIRE_FALSE(parsed);
    return parsed.error().message;
  };
  CHECK(contains(refused(GitHost::github, "push", "not json"), "not JSON"));
  CHECK(contains(refused(GitHost::github, "push", "[1,2]"), "not a JSON object"));
  CHECK(contains(refused(GitHost::github, "push", R"({"ref":"refs/heads/main"})"), "repository"));
  CHECK(contains(refused(GitHost::github, "push",
                         R"({"ref":"refs/heads/main","after":"xyz","repository":{}})"),
                 "'after' is not a commit id"));
  CHECK(contains(refused(GitHost::github, "push",
                         R"({"ref":"refs/heads/../x","after":")" + k_b + R"(","repository":{}})"),
                 "not a branch name"));
  CHECK(contains(refused(GitHost::github, "pull_request",
                         R"({"action":"opened","number":-1,"pull_request":{},"repository":{}})"),
                 "number"));
  CHECK(contains(refused(GitHost::gitlab, "Push Hook", R"({"object_kind":"tag_push"})"),
                 "object_kind"));
  CHECK(contains(refused(GitHost::gitea, "push\n", "{}"), "event header"));
}
