// Apps connected to git hosts (ops/connections.hpp), end to end: a local host (git's
// http-backend behind nginx, with a token required, and a receiver recording status calls),
// the real API server taking each host's webhooks, and real deploys.
#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/git_host_harness.hpp"

namespace slipway::test {

namespace {

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
  REQUIRE(server.settled("shop-staging")); // git moves the branch once the hook is done
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
