// Apps connected to git hosts (ops/connections.hpp), end to end: a local host (git's
// http-backend behind nginx, with a token required, and a receiver recording status calls),
// the real API server taking each host's webhooks, and real deploys.
#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/api_harness.hpp"
#include "tests/e2e/git_host_harness.hpp"

namespace slipway::test {

namespace {

using Json = nlohmann::json;

const std::string k_server_config = "[git_hosts]\nallow_private = true\n";

// One host's way of saying things: its webhook endpoint, its deliveries, its status words.
struct HostFormat {
  std::string name;       // --host
  std::string token_user; // the user name its token goes with
  std::string endpoint;
  std::string pull_ref; // where it keeps pull request N's head ("{}": N)
  std::function<Delivery(const std::string& url, const std::string& before,
                         const std::string& after, const std::string& secret,
                         const std::string& delivery)>
      push;
  // action: opened, updated, merged
  std::function<Delivery(const std::string& url, const std::string& action, int number,
                         const std::string& head, const std::string& secret,
                         const std::string& delivery)>
      pull;
  std::string status_path; // "/api/v3/repos/acme/shop/statuses/"
  std::string auth_header; // "authorization"
  std::string auth_value;  // "Bearer TOKEN"
  std::string context_key; // "context" or "name"
};

const std::string k_token = "tok_0123456789abcdef";

HostFormat github() {
  return {.name = "github",
          .token_user = "x-access-token",
          .endpoint = "/hooks/github",
          .pull_ref = "refs/pull/{}/head",
          .push =
              [](const std::string& url, const std::string& before, const std::string& after,
                 const std::string& secret, const std::string& delivery) {
                return github_delivery("push", github_push(url, before, after), secret, delivery);
              },
          .pull =
              [](const std::string& url, const std::string& action, int number,
                 const std::string& head, const std::string& secret, const std::string& delivery) {
                std::string word = action == "updated"  ? "synchronize"
                                   : action == "merged" ? "closed"
                                                        : action;
                return github_delivery("pull_request",
                                       github_pull(url, word, number, head, action == "merged"),
                                       secret, delivery);
              },
          .status_path = "/api/v3/repos/acme/shop/statuses/",
          .auth_header = "authorization",
          .auth_value = "Bearer " + k_token,
          .context_key = "context"};
}

HostFormat gitlab() {
  return {
      .name = "gitlab",
      .token_user = "oauth2",
      .endpoint = "/hooks/gitlab",
      .pull_ref = "refs/merge-requests/{}/head",
      .push =
          [](const std::string& url, const std::string& before, const std::string& after,
             const std::string& secret, const std::string& delivery) {
            return gitlab_delivery("Push Hook", gitlab_push(url, before, after), secret, delivery);
          },
      .pull =
          [](const std::string& url, const std::string& action, int number, const std::string& head,
             const std::string& secret, const std::string& delivery) {
            std::string word = action == "opened"    ? "open"
                               : action == "updated" ? "update"
                                                     : "merge";
            return gitlab_delivery("Merge Request Hook",
                                   gitlab_merge_request(url, word, number, head), secret, delivery);
          },
      .status_path = "/api/v4/projects/acme%2Fshop/statuses/",
      .auth_header = "private-token",
      .auth_value = k_token,
      .context_key = "name"};
}

HostFormat gitea() {
  return {.name = "gitea",
          .token_user = "slipway",
          .endpoint = "/hooks/gitea",
          .pull_ref = "refs/pull/{}/head",
          .push =
              [](const std::string& url, const std::string& before, const std::string& after,
                 const std::string& secret, const std::string& delivery) {
                return gitea_delivery("push", "push", gitea_push(url, before, after), secret,
                                      delivery);
              },
          .pull =
              [](const std::string& url, const std::string& action, int number,
                 const std::string& head, const std::string& secret, const std::string& delivery) {
                std::string word = action == "updated"  ? "synchronized"
                                   : action == "merged" ? "closed"
                                                        : action;
                return gitea_delivery(
                    "pull_request", action == "updated" ? "pull_request_sync" : "pull_request",
                    gitea_pull(url, word, number, head, action == "merged"), secret, delivery);
              },
          .status_path = "/api/v1/repos/acme/shop/statuses/",
          .auth_header = "authorization",
          .auth_value = "token " + k_token,
          .context_key = "context"};
}

// The server, the host, and an app `shop-staging` connected to acme/shop's main, the review
// parent of pipeline `shop` with review apps on.
struct Connected {
  explicit Connected(const HostFormat& format)
      : format(format), api(k_server_config), host(format.token_user, k_token) {
    first = host.create_repo("shop", "version one");
    api.server.slipway({"apps:create", "shop-staging"});
    auto added = run({.argv = {slipway_binary().string(), "--root", api.server.root.string(),
                               "credentials:add", "hosttoken", "--token", "-"},
                      .stdin_data = k_token + "\n"});
    REQUIRE(added);
    REQUIRE(added->ok());
    auto connected =
        api.server.slipway({"apps:connect", "-a", "shop-staging", host.url("shop"), "--host",
                            format.name, "--credential", "hosttoken", "--json"});
    INFO(connected.output);
    REQUIRE(connected.ok());
    auto json = Json::parse(connected.output.substr(connected.output.find('{')));
    secret = json.at("secret").get<std::string>();
    REQUIRE(json.at("webhook_url").get<std::string>().ends_with(format.endpoint));
    REQUIRE(api.server.slipway({"pipelines:create", "shop", "-a", "shop-staging", "-s", "staging"})
                .ok());
    REQUIRE(api.server.slipway({"reviewapps:enable", "-p", "shop", "--autodeploy"}).ok());
  }

  ApiResponse deliver(const Delivery& delivery) const {
    return api.request("POST", format.endpoint, "", delivery.body, delivery.headers);
  }

  int release_count(const std::string& app) const {
    return static_cast<int>(api.server.releases(app).size());
  }

  bool status_of(const std::string& commit, const std::string& context, const std::string& state,
                 const std::string& target = "") const {
    return host.await_status([&](const Json& call) {
      const Json& body = call.at("json");
      return call.value("path", "") == format.status_path + commit && body.is_object() &&
             body.value(format.context_key, "") == context && body.value("state", "") == state &&
             (target.empty() || body.value("target_url", "") == target) &&
             call.at("headers").value(format.auth_header, "") == format.auth_value;
    });
  }

  HostFormat format;
  ApiServer api;
  FakeGitHost host;
  std::string first;
  std::string secret;
};

void webhooks_deploy_and_review(const HostFormat& format) {
  Connected c(format);
  Server& server = c.api.server;

  // A push to the connected branch deploys it, named after the host's pusher.
  c.host.write_app("shop", "version two");
  std::string second = c.host.commit_and_push("shop", "main", "second");
  auto accepted = c.deliver(format.push(c.host.url("shop"), c.first, second, c.secret, "d-1"));
  INFO(accepted.body);
  REQUIRE(accepted.status == 202);
  REQUIRE(server.serves("shop-staging", "version two", std::chrono::seconds(60)));
  CHECK(server.branch("shop-staging") == second);
  auto releases = c.api.server.releases("shop-staging");
  CHECK(contains(releases.dump(), "(" + format.name + ")"));
  std::string url = "http://shop-staging.localhost:" + std::to_string(server.http_port);
  CHECK(c.status_of(second, "slipway/shop-staging", "pending"));
  CHECK(c.status_of(second, "slipway/shop-staging", "success", url));

  // A bad signature is refused and does nothing.
  c.host.write_app("shop", "version three");
  std::string third = c.host.commit_and_push("shop", "main", "third");
  auto forged = c.deliver(format.push(c.host.url("shop"), second, third, "not-the-secret", "d-2"));
  CHECK(forged.status == 401);
  auto unsigned_delivery = format.push(c.host.url("shop"), second, third, c.secret, "d-2b");
  unsigned_delivery.headers.resize(1); // the event's name only
  CHECK(c.deliver(unsigned_delivery).status == 401);
  int before = c.release_count("shop-staging");

  // The same delivery twice deploys once.
  auto once = format.push(c.host.url("shop"), second, third, c.secret, "d-3");
  CHECK(c.deliver(once).status == 202);
  auto again = c.deliver(once);
  CHECK(again.status == 200);
  CHECK(contains(again.body, "received already"));
  REQUIRE(server.serves("shop-staging", "version three", std::chrono::seconds(60)));
  REQUIRE(server.settled("shop-staging"));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(c.release_count("shop-staging") == before + 1);

  // A pull request gets a review app, a push to its head updates it, merging destroys it.
  c.host.git("shop", {"checkout", "-q", "-b", "feature"});
  c.host.write_app("shop", "feature one");
  std::string head = c.host.commit_and_push("shop", "feature", "feature");
  std::string ref = fmt::format(fmt::runtime(format.pull_ref), 7);
  c.host.set_ref("shop", ref, head);
  auto opened = c.deliver(format.pull(c.host.url("shop"), "opened", 7, head, c.secret, "d-4"));
  INFO(opened.body);
  CHECK(opened.status == 202);
  REQUIRE(server.serves("shop-pr-7", "feature one", std::chrono::seconds(60)));
  std::string review_url = "http://shop-pr-7.localhost:" + std::to_string(server.http_port);
  CHECK(c.status_of(head, "slipway/review-app", "pending"));
  CHECK(c.status_of(head, "slipway/review-app", "success", review_url));

  c.host.write_app("shop", "feature two");
  std::string head2 = c.host.commit_and_push("shop", "feature", "feature two");
  c.host.set_ref("shop", ref, head2);
  CHECK(c.deliver(format.pull(c.host.url("shop"), "updated", 7, head2, c.secret, "d-5")).status ==
        202);
  REQUIRE(server.serves("shop-pr-7", "feature two", std::chrono::seconds(60)));

  CHECK(c.deliver(format.pull(c.host.url("shop"), "merged", 7, head2, c.secret, "d-6")).status ==
        202);
  bool gone = false;
  for (int i = 0; i < 150 && !gone; ++i) {
    gone = !fs::exists(server.app_dir("shop-pr-7"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(gone);
}

} // namespace

TEST_CASE("a GitHub push deploys, a forged one does nothing, a redelivery deploys once, and a "
          "pull request's review app lives until it is merged",
          "[git-hosts]") {
  webhooks_deploy_and_review(github());
}

TEST_CASE("a GitLab push deploys, a forged one does nothing, a redelivery deploys once, and a "
          "merge request's review app lives until it is merged",
          "[git-hosts]") {
  webhooks_deploy_and_review(gitlab());
}

TEST_CASE("a Gitea push deploys, a forged one does nothing, a redelivery deploys once, and a "
          "pull request's review app lives until it is merged",
          "[git-hosts]") {
  webhooks_deploy_and_review(gitea());
}

} // namespace slipway::test
