// Review apps end to end: a branch pushed to a pipeline's development app gets its own app at
// its own URL, with the review config and never the parent's; it is updated by each push and
// destroyed when its branch is merged, deleted or left idle; a review app that cannot be made
// leaves nothing; and afterwards nothing of a destroyed review app is left on the server.
#include <future>
#include <set>
#include <signal.h>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/server.hpp"

namespace slipway::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The development app `shop-dev` of pipeline `shop`, deployed, with a production secret.
struct ReviewPipeline {
  Server server;
  ReviewPipeline() {
    server.create("shop-dev", fixture("apps/review"));
    auto pushed = server.push("shop-dev");
    INFO(pushed.output);
    REQUIRE(pushed.ok());
    REQUIRE(server.slipway({"config:set", "-a", "shop-dev", "PROD_SECRET=topsecret"}).ok());
    REQUIRE(
        server.slipway({"pipelines:create", "shop", "-a", "shop-dev", "-s", "development"}).ok());
  }
  fs::path repo() const { return server.root / "repos" / "shop-dev.git"; }
  ExitStatus push(const std::string& refspec) const {
    auto pushed =
        server.run({"git", "push", "-q", repo().string(), refspec}, server.work("shop-dev"));
    UNSCOPED_INFO("git push " << refspec << ":\n" << pushed.output);
    return pushed;
  }
  // A new commit on `branch` (made from the current one when it does not exist yet).
  void commit_on(const std::string& branch, const std::string& file) const {
    server.git("shop-dev", {"checkout", "-q", "-B", branch});
    server.write("shop-dev", file, branch + "\n");
    server.commit("shop-dev", "change " + file + " on " + branch);
  }
  bool exists(const std::string& app) const {
    return fs::exists(server.root / "apps" / app) ||
           fs::exists(server.root / "repos" / (app + ".git"));
  }
  std::vector<json> events(const std::string& app) const {
    // Every event, then the app's: `events -a` wants an app that exists.
    auto shown = server.slipway({"events", "-n", "0", "--json"});
    REQUIRE(shown.ok());
    auto all = json::parse(shown.output).get<std::vector<json>>();
    std::erase_if(all, [&](const json& event) { return event.value("app", "") != app; });
    return all;
  }
  int scripts_run(const std::string& app, const std::string& script) const {
    int count = 0;
    for (const auto& event : events(app)) {
      if (event.value("action", "") == "script_succeeded" &&
          event["data"].value("script", "") == script) {
        ++count;
      }
    }
    return count;
  }
};

TEST_CASE("a branch's review app is made, updated and destroyed when the branch is merged, "
          "deleted or left idle, and leaves nothing behind",
          "[review]") {
  ReviewPipeline shop;
  Server& server = shop.server;
  REQUIRE(server.slipway({"config:set", "-p", "shop", "--stage", "review", "REVIEW_DB=review-db"})
              .ok());
  auto enabled = server.slipway(
      {"reviewapps:enable", "-p", "shop", "--autodeploy", "--autodestroy", "--stale-days", "3"});
  INFO(enabled.output);
  REQUIRE(enabled.ok());

  // A push of feature-x makes its review app, with the review config, without PROD_SECRET.
  shop.commit_on("feature-x", "x.txt");
  auto pushed = shop.push("feature-x");
  REQUIRE(pushed.ok());
  CHECK(contains(pushed.output, "Review app shop-feature-x is live at http://shop-feature-x."));
  CHECK(server.serves("shop-feature-x",
                      "shop-feature-x|shop-dev|feature-x|hello from review|none|review-db"));
  CHECK(server.serves("shop-dev", "||hello from production|topsecret|none"));
  auto listed = json::parse(server.slipway({"reviewapps", "-p", "shop", "--json"}).output);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["branch"] == "feature-x");
  CHECK(listed[0]["status"] == "created");
  CHECK(listed[0]["live"] == 1);

  // Its own repository has the commit it runs: git and the live release agree.
  CHECK(server.branch("shop-feature-x") == server.live_commit("shop-feature-x"));
  CHECK(server.branch("shop-feature-x") ==
        server.git("shop-dev", {"rev-parse", "feature-x"}).substr(0, 40));

  // Pushed again: updated, postdeploy not run again.
  shop.commit_on("feature-x", "x2.txt");
  REQUIRE(shop.push("feature-x").ok());
  CHECK(server.releases("shop-feature-x").size() == 2);
  CHECK(server.branch("shop-feature-x") == server.live_commit("shop-feature-x"));
  CHECK(shop.scripts_run("shop-feature-x", "postdeploy") == 1);

  // Merged into main and main pushed: destroyed, pr-predestroy first.
  server.git("shop-dev", {"checkout", "-q", "main"});
  server.git("shop-dev", {"merge", "-q", "--no-ff", "-m", "merge feature-x", "feature-x"});
  auto merged = shop.push("main");
  REQUIRE(merged.ok());
  CHECK(contains(merged.output, "Review app shop-feature-x destroyed: branch feature-x merged "
                                "into main"));
  CHECK_FALSE(shop.exists("shop-feature-x"));
  CHECK(shop.scripts_run("shop-feature-x", "pr-predestroy") == 1);

  // feature-y, then the branch deleted: destroyed.
  shop.commit_on("feature-y", "y.txt");
  REQUIRE(shop.push("feature-y").ok());
  CHECK(server.serves("shop-feature-y", "shop-feature-y|shop-dev|feature-y"));
  auto deleted = shop.push(":feature-y");
  REQUIRE(deleted.ok());
  CHECK(contains(deleted.output, "destroyed: branch feature-y deleted"));
  CHECK_FALSE(shop.exists("shop-feature-y"));
  CHECK(shop.scripts_run("shop-feature-y", "postdeploy") == 1);
  CHECK(shop.scripts_run("shop-feature-y", "pr-predestroy") == 1);

  // feature-z, left idle past --stale-days (the sweep told a later time): destroyed.
  server.git("shop-dev", {"checkout", "-q", "main"});
  shop.commit_on("feature-z", "z.txt");
  REQUIRE(shop.push("feature-z").ok());
  REQUIRE(shop.exists("shop-feature-z"));
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto early = server.slipway({"reviewapps:sweep", "--now", std::to_string(now + 2 * 86400)});
  CHECK(contains(early.output, "0 stale review apps destroyed"));
  CHECK(shop.exists("shop-feature-z"));
  auto swept = server.slipway({"reviewapps:sweep", "--now", std::to_string(now + 4 * 86400)});
  INFO(swept.output);
  CHECK(contains(swept.output, "1 stale review apps destroyed"));
  CHECK_FALSE(shop.exists("shop-feature-z"));
  CHECK(shop.scripts_run("shop-feature-z", "pr-predestroy") == 1);
  auto destroyed = shop.events("shop-feature-z");
  CHECK(std::ranges::any_of(destroyed, [](const json& event) {
    return event["resource"] == "review-app" && event["action"] == "destroyed" &&
           contains(event["data"].value("reason", ""), "no push to branch feature-z for 3 days");
  }));

  // Nothing of a destroyed review app is left: apps, repositories, routes, slugs, processes.
  std::set<std::string> apps;
  for (const auto& entry : fs::directory_iterator(server.root / "apps")) {
    if (!entry.path().filename().string().starts_with('.')) {
      apps.insert(entry.path().filename().string());
    }
  }
  CHECK(apps == std::set<std::string>{"shop-dev"});
  std::set<std::string> kept;
  for (const auto& release : server.releases("shop-dev")) {
    std::string slug = release.value("slug", ""); // sha256:HEX, stored as HEX.tar.zst
    kept.insert(slug.substr(slug.find(':') + 1));
  }
  for (const auto& entry : fs::directory_iterator(server.root / "slugs")) {
    INFO(entry.path());
    std::string name = entry.path().filename().string();
    CHECK((name.starts_with('.') || kept.contains(name.substr(0, name.find('.')))));
  }
  // The daemon stops their processes as it stops any (SIGTERM, then stop_grace).
  bool running = true;
  for (int i = 0; i < 75 && running; ++i) {
    running = contains(server.run({"ps", "-eo", "args"}).output, "shop-feature");
    if (running) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  CHECK_FALSE(running);
  for (const auto& entry : fs::recursive_directory_iterator(server.root / "run")) {
    if (entry.is_regular_file() && entry.path().extension() == ".conf") {
      INFO(entry.path());
      CHECK_FALSE(contains(read_text(entry.path()), "shop-feature"));
    }
  }
  CHECK(server.get("shop-feature-x").status == 404);
}

TEST_CASE("a branch whose app.json requires a var the review config lacks moves, says which, "
          "and leaves nothing",
          "[review]") {
  ReviewPipeline shop;
  Server& server = shop.server;
  REQUIRE(server.slipway({"reviewapps:enable", "-p", "shop", "--autodeploy"}).ok());
  server.git("shop-dev", {"checkout", "-q", "-B", "needs-var"});
  server.write("shop-dev", "app.json",
               R"({"environments": {"review": {"env": {"PAYMENT_KEY": {"required": true}}}}})");
  server.commit("shop-dev", "require PAYMENT_KEY");
  auto pushed = shop.push("needs-var");
  CHECK(pushed.ok()); // the branch moves
  CHECK(contains(pushed.output, "PAYMENT_KEY"));
  CHECK(contains(pushed.output, "config:set -p shop --stage review"));
  CHECK(contains(pushed.output, "the branch needs-var moved; its review app is not live"));
  CHECK(server.git("shop-dev", {"ls-remote", shop.repo().string(), "needs-var"}).size() > 40);
  CHECK_FALSE(shop.exists("shop-needs-var"));
  CHECK(json::parse(server.slipway({"reviewapps", "-p", "shop", "--json"}).output).empty());

  // With the var in the review config, the same push makes it.
  REQUIRE(
      server.slipway({"config:set", "-p", "shop", "--stage", "review", "PAYMENT_KEY=test"}).ok());
  auto created = server.slipway({"reviewapps:create", "-p", "shop", "--branch", "needs-var"});
  INFO(created.output);
  CHECK(created.ok());
  CHECK(shop.exists("shop-needs-var"));
}

TEST_CASE("review apps: long and odd branch names, the cap, who may, and malformed settings",
          "[review]") {
  ReviewPipeline shop;
  Server& server = shop.server;
  REQUIRE(server.slipway({"reviewapps:enable", "-p", "shop", "--autodeploy", "--max", "1"}).ok());

  std::string long_branch = "Feature/" + std::string(70, 'A') + "_x";
  shop.commit_on(long_branch, "long.txt");
  auto pushed = shop.push(long_branch);
  REQUIRE(pushed.ok());
  auto listed = json::parse(server.slipway({"reviewapps", "-p", "shop", "--json"}).output);
  REQUIRE(listed.size() == 1);
  std::string name = listed[0]["app"];
  CHECK(name.size() <= 63);
  CHECK(name.starts_with("shop-feature-aaaa"));
  CHECK(server.serves(name, name + "|shop-dev|" + long_branch));

  // A branch name git takes but slipway does not keep: said, nothing made, the branch moves.
  std::string odd = "odd/" + std::string(210, 'b');
  shop.commit_on(odd, "odd.txt");
  auto refused = shop.push(odd);
  CHECK(refused.ok());
  CHECK(contains(refused.output, "cannot have a review app"));
  CHECK(json::parse(server.slipway({"reviewapps", "-p", "shop", "--json"}).output).size() == 1);

  // The cap: a second branch is refused with the cap named, its branch still moves.
  shop.commit_on("second", "second.txt");
  auto capped = shop.push("second");
  CHECK(capped.ok());
  CHECK(contains(capped.output, "its cap (reviewapps:enable --max 1)"));
  CHECK_FALSE(shop.exists("shop-second"));

  // Bad settings name the problem.
  auto bad = server.slipway({"reviewapps:enable", "-p", "shop", "--stale-days", "9999"});
  CHECK_FALSE(bad.ok());
  CHECK(contains(bad.output, "--stale-days is from 1 to 365"));
  bad = server.slipway({"config:set", "-p", "shop", "--stage", "staging", "A=b"});
  CHECK_FALSE(bad.ok());
  CHECK(contains(bad.output, "--stage review"));
  bad = server.slipway({"config:set", "-p", "shop", "--stage", "review", "1BAD=x"});
  CHECK_FALSE(bad.ok());
  CHECK(contains(bad.output, "invalid config var name '1BAD'"));
  bad = server.slipway({"reviewapps:create", "-p", "shop", "--branch", "no-such"});
  CHECK_FALSE(bad.ok());
  CHECK(contains(bad.output, "shop-dev has no branch no-such"));
  CHECK(server.slipway({"reviewapps:destroy", "-p", "shop", "--branch", long_branch}).ok());
  CHECK_FALSE(shop.exists(name));

  // A damaged review record in app.toml is an error naming the file.
  REQUIRE(server.slipway({"reviewapps:create", "-p", "shop", "--branch", "second"}).ok());
  fs::path toml = server.root / "apps" / "shop-second" / "app.toml";
  std::string text = read_text(toml);
  INFO(text);
  auto status = text.find("status = ");
  REQUIRE(status != std::string::npos);
  auto end = text.find('\n', status);
  write_file(toml, text.replace(status, end - status, "status = 'weird'"));
  auto damaged = server.slipway({"reviewapps", "-p", "shop"});
  CHECK(contains(damaged.output + server.slipway({"apps:info", "-a", "shop-second"}).output,
                 "[review] must hold"));
}

TEST_CASE("with --wait-for-ci a review app deploys only once its commit's tests pass",
          "[review][ci]") {
  Server server;
  server.create("web-dev", fixture("apps/ci-pass"));
  REQUIRE(server.push("web-dev").ok());
  REQUIRE(server.slipway({"pipelines:create", "web", "-a", "web-dev", "-s", "development"}).ok());
  REQUIRE(server.slipway({"reviewapps:enable", "-p", "web", "--autodeploy", "--wait-for-ci"}).ok());
  fs::path repo = server.root / "repos" / "web-dev.git";
  auto push = [&](const std::string& refspec) {
    auto pushed = server.run({"git", "push", "-q", repo.string(), refspec}, server.work("web-dev"));
    UNSCOPED_INFO(pushed.output);
    return pushed;
  };

  // A green branch: tested, then deployed; the list shows the run.
  server.git("web-dev", {"checkout", "-q", "-b", "green"});
  server.write("web-dev", "www/index.html", "green branch\n");
  server.commit("web-dev", "green");
  auto green = push("green");
  REQUIRE(green.ok());
  CHECK(contains(green.output, "wait_for_ci: running the tests of"));
  CHECK(contains(green.output, "Review app web-green is live"));
  CHECK_FALSE(contains(green.output, "queued")); // tested once, on the review app
  CHECK(server.serves("web-green", "green branch"));
  auto listed = json::parse(server.slipway({"reviewapps", "-p", "web", "--json"}).output);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["ci"] == "succeeded");

  // A red branch: its tests fail, so no review app; the branch moves all the same.
  server.git("web-dev", {"checkout", "-q", "-b", "red"});
  server.write("web-dev", "test_app.py",
               "print('1..1')\nprint('not ok 1 - broken')\nraise SystemExit(1)\n");
  server.commit("web-dev", "red");
  auto red = push("red");
  CHECK(red.ok());
  CHECK(contains(red.output, "tests failed: run #"));
  CHECK(contains(red.output, "the branch red moved; its review app is not live"));
  CHECK_FALSE(fs::exists(server.root / "apps" / "web-red"));
  CHECK(json::parse(server.slipway({"reviewapps", "-p", "web", "--json"}).output).size() == 1);
}

TEST_CASE("a push killed while its review app is being made leaves an app the next push "
          "finishes, or the sweep removes",
          "[review][faults]") {
  ReviewPipeline shop;
  Server& server = shop.server;
  REQUIRE(server.slipway({"reviewapps:enable", "-p", "shop", "--autodeploy"}).ok());
  // The branch's web process takes seconds to answer: the push waits in its health check.
  auto slow = [&](const std::string& branch) {
    server.git("shop-dev", {"checkout", "-q", "-B", branch, "main"});
    server.write("shop-dev", "Procfile",
                 "web: sleep 4 && mkdir -p /tmp/www && echo slow > /tmp/www/index.html && exec "
                 "python3 -m http.server \"$PORT\" --bind 127.0.0.1 --directory /tmp/www\n");
    server.commit("shop-dev", "slow " + branch);
  };
  auto killed_push = [&](const std::string& branch) {
    Command command{.argv = {"git", "push", "-q", shop.repo().string(), branch},
                    .cwd = server.work("shop-dev"),
                    .timeout = std::chrono::minutes(2)};
    std::promise<int> started;
    auto pgid = started.get_future();
    command.on_start = [&started](int id) { started.set_value(id); };
    auto done = std::async(std::launch::async, [command] { return run(command); });
    int group = pgid.get();
    // Killed once the review app's release exists: its web process is still starting.
    fs::path releases = server.root / "apps" / ("shop-" + branch) / "releases";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline && !fs::exists(releases / "v1")) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::killpg(group, SIGKILL);
    done.get();
  };

  slow("cut");
  killed_push("cut");
  REQUIRE(shop.exists("shop-cut"));
  auto listed = json::parse(server.slipway({"reviewapps", "-p", "shop", "--json"}).output);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["status"] == "creating");
  // The next push of the branch finishes it.
  server.write("shop-dev", "again.txt", "again\n");
  server.commit("shop-dev", "again");
  auto again = shop.push("cut");
  REQUIRE(again.ok());
  CHECK(contains(again.output, "Review app shop-cut is live"));
  CHECK(server.serves("shop-cut", "slow"));
  CHECK(json::parse(server.slipway({"reviewapps", "-p", "shop", "--json"}).output)[0]["status"] ==
        "created");

  // Cut short and never pushed again: the sweep removes it an hour later, and nothing is left.
  slow("lost");
  killed_push("lost");
  REQUIRE(shop.exists("shop-lost"));
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  CHECK(contains(server.slipway({"reviewapps:sweep", "--now", std::to_string(now + 600)}).output,
                 "0 stale review apps destroyed"));
  auto swept = server.slipway({"reviewapps:sweep", "--now", std::to_string(now + 7200)});
  INFO(swept.output);
  CHECK(contains(swept.output, "1 stale review apps destroyed"));
  CHECK_FALSE(shop.exists("shop-lost"));
  CHECK(shop.exists("shop-cut"));
  CHECK(server.settled("shop-dev"));
}

} // namespace
} // namespace slipway::test
