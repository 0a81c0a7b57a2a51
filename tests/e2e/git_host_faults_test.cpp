// Connected apps when things go wrong or someone tries something: polling for a host that
// cannot reach the server, a worker killed with its job undone, a deploy that fails, and
// deliveries and connections that must be refused.
#include <thread>

#include <catch2/catch.hpp>

#include "runtime/connections.hpp"
#include "tests/e2e/git_host_harness.hpp"

namespace slipway::test {

namespace {

bool app_gone(const Server& server, const std::string& app, std::chrono::seconds wait) {
  auto until = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < until) {
    if (!fs::exists(server.app_dir(app))) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

} // namespace

TEST_CASE("apps:connect --poll deploys a commit pushed to the host within its interval, and a job "
          "a killed "
          "worker left is done by the daemon",
          "[git-hosts]") {
  Connected c(gitea(), {"--poll", "10s"});
  Server& server = c.api.server;
  auto shown = server.slipway({"apps:connection", "-a", "shop-staging"});
  CHECK(contains(shown.output, "every 10s"));
  CHECK_FALSE(contains(shown.output, c.secret));

  c.host.write_app("shop", "polled in");
  std::string second = c.host.commit_and_push("shop", "main", "second");
  auto pushed_at = std::chrono::steady_clock::now();
  REQUIRE(server.serves("shop-staging", "polled in", std::chrono::seconds(40)));
  // The interval, a tending round and the deploy.
  CHECK(std::chrono::steady_clock::now() - pushed_at < std::chrono::seconds(30));
  REQUIRE(server.settled("shop-staging"));
  CHECK(server.branch("shop-staging") == second);

  // A worker killed before it did its job leaves the job queued: the daemon starts another.
  REQUIRE(server.slipway({"apps:disconnect", "-a", "shop-staging"}).ok());
  c.host.write_app("shop", "left behind");
  std::string third = c.host.commit_and_push("shop", "main", "third");
  auto connected = server.slipway({"apps:connect", "-a", "shop-staging", c.host.url("shop"),
                                   "--host", "gitea", "--credential", "hosttoken"});
  REQUIRE(connected.ok());
  Layout layout(server.root);
  REQUIRE(queue_connection_job(layout, "shop-staging",
                               {.id = "killed-worker",
                                .kind = "push",
                                .actor = "gitea-dev",
                                .branch = "main",
                                .commit = third}));
  REQUIRE(server.serves("shop-staging", "left behind", std::chrono::seconds(40)));
  CHECK(contains(server.daemon.log(), "started the worker of shop-staging"));
}

TEST_CASE("a connected deploy that fails leaves the live release and says failure to the host, "
          "and deliveries that mean nothing are answered with why",
          "[git-hosts]") {
  Connected c(github());
  Server& server = c.api.server;
  std::string url = c.host.url("shop");

  // The first commit with tests goes live, and its test run's status reaches the host.
  REQUIRE(server.slipway({"apps:set", "-a", "shop-staging", "ci=true"}).ok());
  write_file(
      c.host.work_tree("shop") / "app.json",
      R"({"environments": {"test": {"scripts": {"test": "grep -q 'version one' public/index.html"}}}})");
  std::string good = c.host.commit_and_push("shop", "main", "tests");
  REQUIRE(c.deliver(c.format.push(url, c.first, good, c.secret, "boot")).status == 202);
  REQUIRE(server.serves("shop-staging", "version one", std::chrono::seconds(60)));
  CHECK(c.status_of(good, "slipway/ci", "pending"));
  CHECK(c.status_of(good, "slipway/ci", "success"));

  // A web process that never listens fails its health check: the push is refused.
  write_file(c.host.work_tree("shop") / "Procfile", "web: sleep 600\n");
  std::string broken = c.host.commit_and_push("shop", "main", "broken");
  REQUIRE(c.deliver(c.format.push(url, good, broken, c.secret, "bad")).status == 202);
  CHECK(c.status_of(broken, "slipway/shop-staging", "failure"));
  REQUIRE(server.settled("shop-staging"));
  CHECK(server.live_commit("shop-staging") == good);
  CHECK(server.branch("shop-staging") == good);
  CHECK(server.serves("shop-staging", "version one", std::chrono::seconds(5)));

  // Each answer names why nothing happens, and the event stream keeps it.
  auto other_branch = github_delivery(
      "push",
      [&] {
        auto payload = github_push(url, good, broken);
        payload["ref"] = "refs/heads/experiment";
        return payload;
      }(),
      c.secret, "other");
  auto answered = c.deliver(other_branch);
  CHECK(answered.status == 202);
  CHECK(contains(answered.body, "not shop-staging's connected branch main"));
  auto issue = c.deliver(github_delivery("issues", {{"action", "opened"}}, c.secret, "issue"));
  CHECK(issue.status == 202);
  CHECK(contains(issue.body, "means nothing here"));
  auto ping = c.deliver(github_delivery("ping", {{"zen", "Design for failure."}}, c.secret, "p"));
  CHECK(ping.status == 200);
  auto fork = github_pull(url, "opened", 9, broken);
  fork["pull_request"]["head"]["repo"]["id"] = 999;
  auto from_fork = c.deliver(github_delivery("pull_request", fork, c.secret, "fork"));
  CHECK(from_fork.status == 202);
  CHECK(contains(from_fork.body, "fork"));
  auto malformed = c.deliver(github_delivery(
      "push", {{"ref", 42}, {"repository", nlohmann::json::object()}}, c.secret, "malformed"));
  CHECK(malformed.status == 400);
  CHECK(contains(malformed.body, "ref"));
  auto other_repo = github_push("http://127.0.0.1:1/acme/other.git", good, broken);
  CHECK(contains(c.deliver(github_delivery("push", other_repo, c.secret, "repo")).body,
                 "not acme/shop"));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK_FALSE(fs::exists(server.app_dir("shop-pr-9")));
  auto events = server.slipway({"events", "-a", "shop-staging"});
  CHECK(contains(events.output, "fork"));
  CHECK(contains(events.output, "means nothing here"));
  // The token is in none of what the server writes down but its credential.
  CHECK_FALSE(contains(events.output, k_token));
  CHECK_FALSE(
      contains(read_text(server.root / "apps" / "shop-staging" / "connection" / "connection.toml"),
               k_token));
  auto log = server.slipway({"logs", "-a", "shop-staging", "-n", "1000"});
  CHECK_FALSE(contains(log.output, k_token));
  CHECK_FALSE(app_gone(server, "shop-staging", std::chrono::seconds(0)));
}

TEST_CASE("apps:connect is an admin's, refuses local paths and the server's own network, and a "
          "wrong credential is told at once",
          "[git-hosts]") {
  ApiServer api; // no [git_hosts] allow_private
  FakeGitHost host("x-access-token", k_token);
  host.create_repo("shop", "hello");
  Server& server = api.server;
  REQUIRE(server.slipway({"apps:create", "shop"}).ok());
  REQUIRE(server.slipway({"access:add", "bob", "-a", "shop"}).ok());

  auto by_bob = api.as_key("bob", {"apps:connect", "-a", "shop", host.url("shop")});
  CHECK_FALSE(by_bob.ok());
  CHECK(contains(by_bob.output, "admin"));
  auto local = server.slipway({"apps:connect", "-a", "shop", "--host", "github",
                               (server.root / "repos" / "shop.git").string()});
  CHECK_FALSE(local.ok());
  CHECK(contains(local.output, "local path"));
  auto file = server.slipway({"apps:connect", "-a", "shop", "--host", "github",
                              "file://" + (server.root / "repos" / "shop.git").string()});
  CHECK_FALSE(file.ok());
  auto loopback =
      server.slipway({"apps:connect", "-a", "shop", "--host", "github", host.url("shop")});
  CHECK_FALSE(loopback.ok());
  CHECK(contains(loopback.output, "allow_private"));
  CHECK_FALSE(fs::exists(server.app_dir("shop") / "connection" / "connection.toml"));

  // Nothing connected: every delivery is unauthorized.
  auto delivery = github_delivery(
      "push", github_push(host.url("shop"), std::string(40, 'a'), std::string(40, 'b')), "guess",
      "x");
  CHECK(api.request("POST", "/hooks/github", "", delivery.body, delivery.headers).status == 401);
  CHECK(api.request("GET", "/hooks/github", "").status == 405);
}

TEST_CASE("a wrong token is refused by the host when connecting, and nothing is saved",
          "[git-hosts]") {
  ApiServer api(k_server_config);
  FakeGitHost host("x-access-token", k_token);
  host.create_repo("shop", "hello");
  Server& server = api.server;
  REQUIRE(server.slipway({"apps:create", "shop"}).ok());
  auto added = run({.argv = {slipway_binary().string(), "--root", server.root.string(),
                             "credentials:add", "wrong", "--token", "-"},
                    .stdin_data = "not-the-token\n"});
  REQUIRE(added);
  REQUIRE(added->ok());
  auto refused = server.slipway({"apps:connect", "-a", "shop", "--host", "github", "--credential",
                                 "wrong", host.url("shop")});
  CHECK_FALSE(refused.ok());
  CHECK(contains(refused.output, "cannot fetch"));
  CHECK_FALSE(contains(refused.output, "not-the-token"));
  auto anonymous =
      server.slipway({"apps:connect", "-a", "shop", "--host", "github", host.url("shop")});
  CHECK_FALSE(anonymous.ok());
  auto no_branch = server.slipway({"apps:connect", "-a", "shop", "--host", "github", "--credential",
                                   "wrong", "--branch", "nope", host.url("shop")});
  CHECK_FALSE(no_branch.ok());
  CHECK_FALSE(fs::exists(server.app_dir("shop") / "connection" / "connection.toml"));
}

} // namespace slipway::test

namespace slipway::test {

TEST_CASE("a deploy key fetches over ssh, the host's key is pinned, and a host showing another "
          "key is refused",
          "[git-hosts]") {
  ApiServer api(k_server_config);
  FakeGitHost host("x-access-token", k_token);
  std::string first = host.create_repo("shop", "over ssh");
  fs::path key = host.dir / "deploy_key";
  REQUIRE(run_program(
              {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deploy", "-f", key.string()})
              .ok());
  host.serve_ssh(read_text(key.string() + ".pub"));
  Server& server = api.server;
  REQUIRE(server.slipway({"apps:create", "shop"}).ok());
  REQUIRE(server.slipway({"credentials:add", "deploy", "--ssh-key", key.string()}).ok());
  auto token = run({.argv = {slipway_binary().string(), "--root", server.root.string(),
                             "credentials:add", "tok", "--token", "-"},
                    .stdin_data = k_token});
  REQUIRE(token);
  REQUIRE(token->ok());
  auto mismatched = server.slipway({"apps:connect", "-a", "shop", host.ssh_url("shop"), "--host",
                                    "gitea", "--credential", "tok"});
  CHECK_FALSE(mismatched.ok());
  CHECK(contains(mismatched.output, "cannot fetch over ssh"));

  auto connected = server.slipway({"apps:connect", "-a", "shop", host.ssh_url("shop"), "--host",
                                   "gitea", "--credential", "deploy", "--json"});
  INFO(connected.output);
  REQUIRE(connected.ok());
  std::string secret =
      nlohmann::json::parse(connected.output.substr(connected.output.find('{'))).at("secret");
  std::string stored = read_text(server.app_dir("shop") / "connection" / "connection.toml");
  CHECK(contains(stored, "host_key = 'SHA256:"));
  CHECK_FALSE(contains(stored, "PRIVATE KEY"));

  auto push = gitea_delivery(
      "push", "push", gitea_push(host.url("shop"), std::string(40, '0'), first), secret, "ssh-1");
  CHECK(api.request("POST", "/hooks/gitea", "", push.body, push.headers).status == 202);
  REQUIRE(server.serves("shop", "over ssh", std::chrono::seconds(60)));

  // The host comes back with another key: the fetch is refused, and nothing is deployed.
  host.serve_ssh(read_text(key.string() + ".pub"));
  host.write_app("shop", "from an impostor");
  std::string second = host.commit_and_push("shop", "main", "second");
  auto again =
      gitea_delivery("push", "push", gitea_push(host.url("shop"), first, second), secret, "ssh-2");
  CHECK(api.request("POST", "/hooks/gitea", "", again.body, again.headers).status == 202);
  bool refused = false;
  for (int i = 0; i < 150 && !refused; ++i) {
    refused = contains(server.slipway({"events", "-a", "shop"}).output, "host key changed");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(refused);
  CHECK(server.branch("shop") == first);
}

} // namespace slipway::test
