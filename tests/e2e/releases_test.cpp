// Releases end to end with the real binary: deploy, config, rollback, the release phase,
// retention, locking and crash safety.
#include <future>
#include <random>
#include <regex>
#include <set>
#include <signal.h>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/file_lock.hpp"
#include "runtime/events.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string k_commit_a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string k_commit_b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

// A slipway root with one app, "demo", and a Procfile-only source to deploy.
struct Server {
  TempDir dir;
  fs::path root = dir / "root";
  fs::path source = dir / "source";

  explicit Server(const std::string& toml = "") {
    REQUIRE(run({"init"}).ok());
    if (!toml.empty()) {
      write_file(root / "slipway.toml", toml);
    }
    REQUIRE(run({"apps:create", "demo"}).ok());
    procfile("web: echo one\n");
  }

  ExitStatus run(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--root", root.string()});
    return run_slipway(args);
  }
  void procfile(const std::string& text) const { write_file(source / "Procfile", text); }
  ExitStatus deploy(const std::string& commit = "") const {
    std::vector<std::string> args = {"deploy", "-a", "demo", source.string()};
    if (!commit.empty()) {
      args.insert(args.end(), {"--commit", commit});
    }
    return run(args);
  }
  // Newest first.
  json releases() const {
    auto status = run({"releases", "-a", "demo", "--json", "-n", "0"});
    INFO(status.output);
    REQUIRE(status.ok());
    // Warnings (a release dir whose record a killed operation never wrote) come first.
    auto start = status.output.find('[');
    REQUIRE(start != std::string::npos);
    return json::parse(status.output.substr(start));
  }
  json release(int version) const {
    for (const auto& release : releases()) {
      if (release["version"] == version) {
        return release;
      }
    }
    FAIL("no release v" << version);
    return {};
  }
  json config() const {
    auto status = run({"config", "-a", "demo", "--json"});
    REQUIRE(status.ok());
    return json::parse(status.output);
  }
  std::string current() const {
    std::error_code ec;
    return fs::read_symlink(root / "apps/demo/current", ec).string();
  }
  std::size_t slug_count() const {
    std::size_t count = 0;
    for (const auto& entry : fs::directory_iterator(root / "slugs")) {
      count += entry.path().filename().string().ends_with(".tar.zst");
    }
    return count;
  }
};

// The fields every release carries, and that only the live one is live.
void check_release(const json& release, int version, const std::string& description,
                   const std::string& commit, const json& config_vars) {
  INFO(release.dump(2));
  CHECK(release["version"] == version);
  CHECK(release["status"] == "succeeded");
  CHECK(release["description"] == description);
  CHECK(release["commit"] == commit);
  CHECK(release["config_vars"] == config_vars);
  CHECK(std::regex_match(release["created_at"].get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  CHECK(release["reason"] == "");
  CHECK(release["user"] == local_actor()); // the server's local user ran the CLI
}

void check_only_live(const json& releases, int version) {
  for (const auto& release : releases) {
    CHECK(release["live"] == (release["version"] == version));
  }
}

// Runs slipway in the background; kill() ends it with SIGKILL.
class Background {
 public:
  explicit Background(std::vector<std::string> args) {
    Command command{.argv = {slipway_binary().string()}};
    command.argv.insert(command.argv.end(), args.begin(), args.end());
    std::promise<int> started;
    auto pid = started.get_future();
    command.on_start = [&started](int id) { started.set_value(id); };
    m_done = std::async(std::launch::async, [command] { return run(command); });
    REQUIRE(pid.wait_for(10s) == std::future_status::ready);
    m_pid = pid.get();
  }
  void kill_now() const { ::kill(m_pid, SIGKILL); }
  ExitStatus wait() {
    auto status = m_done.get();
    REQUIRE(status);
    return *status;
  }
  bool finished_within(std::chrono::milliseconds time) {
    return m_done.wait_for(time) == std::future_status::ready;
  }

 private:
  int m_pid = 0;
  std::future<Expected<ExitStatus>> m_done;
};

} // namespace

TEST_CASE("deploy, config:set, deploy, rollback, rollback vN and config:unset each make the "
          "release they should",
          "[releases]") {
  Server server;

  auto status = server.deploy(k_commit_a);
  INFO(status.output);
  REQUIRE(status.ok());
  CHECK(contains(status.output, "-----> Launching v1... done"));
  CHECK(contains(status.output, "http://demo.localhost:8080 deployed (v1)"));
  auto v1 = server.release(1);
  check_release(v1, 1, "Deploy aaaaaaa", k_commit_a, json::array());
  CHECK(v1["slug"].get<std::string>().starts_with("sha256:"));
  CHECK(v1["buildpacks"] == json{"procfile"});
  CHECK(v1["stack"] == "slipway-24");
  CHECK(v1["process_types"] == json{{"web", "echo one"}});
  CHECK(server.current() == "releases/v1");

  REQUIRE(server.run({"config:set", "-a", "demo", "FOO=bar=baz qux"}).ok());
  auto v2 = server.release(2);
  check_release(v2, 2, "Set FOO config vars", k_commit_a, json{"FOO"});
  CHECK(v2["slug"] == v1["slug"]);
  CHECK(v2["process_types"] == v1["process_types"]);
  CHECK(server.current() == "releases/v2");
  CHECK(server.config() == json{{"FOO", "bar=baz qux"}});
  CHECK(server.run({"config:get", "-a", "demo", "FOO"}).output == "bar=baz qux\n");

  server.procfile("web: echo two\n");
  REQUIRE(server.deploy(k_commit_b).ok());
  auto v3 = server.release(3);
  check_release(v3, 3, "Deploy bbbbbbb", k_commit_b, json{"FOO"});
  CHECK(v3["slug"] != v1["slug"]);
  CHECK(v3["process_types"] == json{{"web", "echo two"}});
  CHECK(server.current() == "releases/v3");

  status = server.run({"rollback", "-a", "demo"});
  INFO(status.output);
  REQUIRE(status.ok());
  CHECK_FALSE(contains(status.output, "Building"));
  auto v4 = server.release(4);
  check_release(v4, 4, "Rollback to v2", k_commit_a, json{"FOO"});
  CHECK(v4["slug"] == v1["slug"]);
  CHECK(v4["process_types"] == json{{"web", "echo one"}});
  CHECK(server.current() == "releases/v4");

  REQUIRE(server.run({"rollback", "-a", "demo", "v3"}).ok());
  auto v5 = server.release(5);
  check_release(v5, 5, "Rollback to v3", k_commit_b, json{"FOO"});
  CHECK(v5["slug"] == v3["slug"]);
  CHECK(server.current() == "releases/v5");

  REQUIRE(server.run({"config:unset", "-a", "demo", "FOO"}).ok());
  auto v6 = server.release(6);
  check_release(v6, 6, "Unset FOO config vars", k_commit_b, json::array());
  CHECK(v6["slug"] == v3["slug"]);
  CHECK(server.current() == "releases/v6");
  CHECK(server.config() == json::object());

  auto all = server.releases();
  REQUIRE(all.size() == 6);
  CHECK(all[0]["version"] == 6); // newest first
  check_only_live(all, 6);
  CHECK(server.slug_count() == 2); // rollback and config changes reuse slugs
}

TEST_CASE(
    "config values keep '=', spaces, newlines and emptiness, and the output is shell-quotable",
    "[releases]") {
  Server server;
  REQUIRE(server
              .run({"config:set", "-a", "demo", "A=x=y", "B=two words", "C=line1\nline2",
                    "D=", "E=it's"})
              .ok());
  CHECK(server.config() ==
        json{{"A", "x=y"}, {"B", "two words"}, {"C", "line1\nline2"}, {"D", ""}, {"E", "it's"}});
  // Before the first build a config change still makes a release, with nothing to run.
  auto v1 = server.release(1);
  CHECK(v1["slug"] == "");
  CHECK(server.current() == "releases/v1");
  auto shown = server.run({"config", "-a", "demo"});
  auto replayed = run_program({"bash", "-c",
                               "eval \"$1\"; printf '%s|%s|%s|%s|%s' \"$A\" \"$B\" "
                               "\"$C\" \"$D\" \"$E\"",
                               "bash", shown.output});
  CHECK(replayed.output == "x=y|two words|line1\nline2||it's");
  auto mode = fs::status(server.root / "apps/demo/releases/v1/release.toml").permissions();
  CHECK((mode & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
}

TEST_CASE("a failing release command leaves the live release serving the same slug and config",
          "[releases]") {
  Server server;
  REQUIRE(server.deploy(k_commit_a).ok());
  REQUIRE(server.run({"config:set", "-a", "demo", "FOO=1"}).ok());
  auto live = server.release(2);

  server.procfile("web: echo two\nrelease: echo migrating $FOO; exit 3\n");
  auto status = server.deploy(k_commit_b);
  CHECK(status.code == 1);
  CHECK(contains(status.output, "-----> Running release command: echo migrating $FOO; exit 3"));
  CHECK(contains(status.output, "       migrating 1"));
  CHECK(contains(status.output, " !     release command exited with status 3; v2 is still live"));
  CHECK(server.current() == "releases/v2");
  auto failed = server.release(3);
  CHECK(failed["status"] == "failed");
  CHECK(failed["live"] == false);
  CHECK(failed["reason"] == "release command exited with status 3");
  CHECK(server.release(2)["slug"] == live["slug"]);
  CHECK(server.config() == json{{"FOO", "1"}});
  CHECK(server.run({"releases:output", "-a", "demo", "v3"}).output == "migrating 1\n");
  CHECK(server.run({"releases:output", "-a", "demo"}).output == "migrating 1\n");

  // The failed release keeps its number: the next one is v4.
  server.procfile("web: echo two\n");
  REQUIRE(server.deploy(k_commit_b).ok());
  CHECK(server.current() == "releases/v4");
}

TEST_CASE("a hanging release command is killed at phase_timeout and the live release stays",
          "[releases]") {
  Server server("[release]\nphase_timeout = \"2s\"\n");
  REQUIRE(server.deploy(k_commit_a).ok());
  server.procfile("web: echo two\nrelease: echo started; sleep 1000\n");
  auto start = std::chrono::steady_clock::now();
  auto status = server.deploy(k_commit_b);
  CHECK(std::chrono::steady_clock::now() - start < 20s);
  CHECK(status.code == 1);
  CHECK(contains(status.output, " !     release command timed out after 2s; v1 is still live"));
  CHECK(server.current() == "releases/v1");
  CHECK(server.release(2)["status"] == "failed");
  CHECK(server.run({"releases:output", "-a", "demo", "v2"}).output == "started\n");
}

TEST_CASE("config changes and rollbacks run the release phase too, from the stored slug",
          "[releases]") {
  Server server;
  server.procfile("web: echo one\nrelease: test -f Procfile && echo phase $FOO > /tmp/x && cat "
                  "/tmp/x\n");
  REQUIRE(server.deploy(k_commit_a).ok());
  auto status = server.run({"config:set", "-a", "demo", "FOO=after"});
  INFO(status.output);
  REQUIRE(status.ok());
  CHECK(contains(status.output, "       phase after"));
  REQUIRE(server.run({"rollback", "-a", "demo", "v1"}).ok());
  CHECK(server.run({"releases:output", "-a", "demo", "v3"}).output == "phase\n");
}

TEST_CASE("two concurrent config:set of different keys both land, in two versions", "[releases]") {
  Server server;
  REQUIRE(server.deploy(k_commit_a).ok());
  Background first({"--root", server.root.string(), "config:set", "-a", "demo", "ALPHA=1"});
  Background second({"--root", server.root.string(), "config:set", "-a", "demo", "BETA=2"});
  CHECK(first.wait().ok());
  CHECK(second.wait().ok());
  CHECK(server.config() == json{{"ALPHA", "1"}, {"BETA", "2"}});
  auto releases = server.releases();
  REQUIRE(releases.size() == 3);
  std::set<std::string> descriptions = {releases[0]["description"], releases[1]["description"]};
  CHECK(descriptions == std::set<std::string>{"Set ALPHA config vars", "Set BETA config vars"});
}

TEST_CASE("a busy app makes the next operation wait, or fail at once with --no-wait",
          "[releases]") {
  Server server;
  REQUIRE(server.deploy(k_commit_a).ok());
  auto lock = FileLock::acquire(server.root / "apps/demo/deploy.lock", FileLock::Mode::exclusive);
  REQUIRE(lock);
  auto refused = server.run({"config:set", "-a", "demo", "--no-wait", "A=1"});
  CHECK(refused.code == 1);
  CHECK(contains(refused.output,
                 " !     another deploy, config change or rollback of 'demo' is in progress"));

  Background waiting({"--root", server.root.string(), "config:set", "-a", "demo", "A=1"});
  CHECK_FALSE(waiting.finished_within(1s));
  { auto released = std::move(*lock); }
  auto status = waiting.wait();
  CHECK(status.ok());
  CHECK(contains(status.output, "-----> Waiting for another deploy, config change or rollback "
                                "of demo to finish..."));
  CHECK(server.config() == json{{"A", "1"}});
}

TEST_CASE("slugs beyond keep_releases are pruned and their releases expire", "[releases]") {
  Server server("[release]\nkeep_releases = 2\n");
  for (int i = 1; i <= 4; ++i) {
    server.procfile(fmt::format("web: echo {}\n", i));
    REQUIRE(server.deploy(k_commit_a).ok());
  }
  CHECK(server.slug_count() == 2);
  CHECK(server.release(1)["status"] == "expired");
  CHECK(server.release(2)["status"] == "expired");
  CHECK(server.release(3)["status"] == "succeeded");
  auto refused = server.run({"rollback", "-a", "demo", "v1"});
  CHECK(refused.code == 1);
  CHECK(contains(refused.output, " !     v1 has expired: its slug was pruned"));
  REQUIRE(server.run({"rollback", "-a", "demo", "v3"}).ok());
  // v5 (a rollback to v3) and v4 are the newest two; v3's slug is v5's.
  CHECK(server.slug_count() == 2);
  CHECK(server.current() == "releases/v5");
}

TEST_CASE("bad input is refused with a message and nothing changes", "[releases]") {
  Server server;
  for (const std::string& name :
       std::vector<std::string>{"../x", "A", "-x", std::string(64, 'a'), "", "a", "x_y", "x/y"}) {
    INFO(name);
    auto created = server.run({"apps:create", "--", name});
    CHECK(created.code == 2);
    CHECK(contains(created.output, "invalid app name"));
    CHECK(server.run({"releases", "-a", name}).code == 2);
  }
  CHECK(server.run({"apps"}).output == "demo\n");
  CHECK(contains(server.run({"apps:create", "demo"}).output, "app 'demo' already exists"));
  CHECK(contains(server.run({"releases", "-a", "nope"}).output, "app 'nope' does not exist"));

  for (const char* item : {"1X=2", "A-B=1", "=x", "A B=1"}) {
    auto status = server.run({"config:set", "-a", "demo", item});
    CHECK(status.code == 2);
    CHECK(contains(status.output, "invalid config var name"));
  }
  CHECK(server.run({"config:set", "-a", "demo", "NOEQUALS"}).code == 2);
  auto unset_missing = server.run({"config:unset", "-a", "demo", "MISSING"});
  CHECK(unset_missing.ok()); // as on Heroku: nothing to do is not a failure
  CHECK(contains(unset_missing.output, "MISSING is not set; nothing to unset"));
  CHECK(contains(unset_missing.output, "No config var changed: no new release"));
  CHECK(server.releases().empty());

  REQUIRE(server.deploy(k_commit_a).ok());
  server.procfile("web: x\nrelease: exit 1\n");
  CHECK(server.deploy(k_commit_b).code == 1);
  CHECK(server.run({"rollback", "-a", "demo", "v0"}).code == 2);
  CHECK(contains(server.run({"rollback", "-a", "demo", "v999"}).output,
                 "release v999 does not exist"));
  CHECK(contains(server.run({"rollback", "-a", "demo", "v2"}).output,
                 "v2 failed; only a succeeded release can be rolled back to"));
  CHECK(contains(server.run({"rollback", "-a", "demo"}).output,
                 "no succeeded release before v1 to roll back to"));
  CHECK(server.releases().size() == 2);

  write_file(server.root / "apps/demo/releases/v2/release.toml", "version = [\n", 0600);
  auto listed = server.run({"releases", "-a", "demo"});
  CHECK(listed.ok());
  CHECK(contains(listed.output,
                 "warning: " + (server.root / "apps/demo/releases/v2/release.toml").string() +
                     " is corrupt"));
  auto info = server.run({"releases:info", "-a", "demo", "v2"});
  CHECK(info.code == 1);
  CHECK(contains(info.output, "release.toml is corrupt"));
  // The live release is untouched and the app still deploys.
  server.procfile("web: echo fine\n");
  REQUIRE(server.deploy(k_commit_b).ok());
  CHECK(server.current() == "releases/v3");
}

TEST_CASE("apps are created, listed, shown and destroyed", "[releases]") {
  Server server("[server]\ndomain = \"example.test\"\nhttp_port = 80\n");
  REQUIRE(server.run({"apps:create", "other"}).ok());
  CHECK(server.run({"apps"}).output == "demo\nother\n");
  REQUIRE(server.deploy(k_commit_a).ok());
  auto info = json::parse(server.run({"apps:info", "-a", "demo", "--json"}).output);
  CHECK(info["url"] == "http://demo.example.test");
  CHECK(info["live"] == 1);
  auto mismatch = server.run({"apps:destroy", "demo", "--confirm", "other"});
  CHECK(mismatch.code == 2);
  CHECK(server.run({"apps:destroy", "demo", "--confirm", "demo"}).ok());
  CHECK(server.run({"apps"}).output == "other\n");
  CHECK(server.slug_count() == 0); // nothing else used demo's slug
}

TEST_CASE("SIGKILL at any moment leaves each app consistent and the next deploy works",
          "[releases][crash]") {
  Server server;
  server.procfile("web: echo one\nrelease: sleep 0.1; echo released\n");
  REQUIRE(server.deploy(k_commit_a).ok());
  std::mt19937 random(20261126);
  std::uniform_int_distribution<int> delay_ms(0, 700);
  const int rounds = 24;
  for (int round = 0; round < rounds; ++round) {
    INFO("round " << round);
    std::vector<std::string> args = {"--root", server.root.string()};
    switch (round % 3) {
    case 0:
      server.procfile(fmt::format("web: echo {}\nrelease: sleep 0.1; echo released\n", round));
      args.insert(args.end(), {"deploy", "-a", "demo", server.source.string()});
      break;
    case 1:
      args.insert(args.end(), {"config:set", "-a", "demo", fmt::format("R={}", round)});
      break;
    default:
      args.insert(args.end(), {"rollback", "-a", "demo"});
      break;
    }
    Background victim(args);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    victim.kill_now();
    victim.wait();

    // Whatever the moment, what is on disk reads as valid and `current` names a release.
    auto releases = server.releases();
    if (!server.current().empty()) {
      int live = std::stoi(server.current().substr(std::string("releases/v").size()));
      auto live_release = server.release(live);
      CHECK((live_release["status"] == "succeeded" || live_release["status"] == "pending"));
    }
    // The next operation settles what the crash left.
    auto next = server.run({"config:set", "-a", "demo", fmt::format("AFTER={}", round)});
    INFO(next.output);
    REQUIRE(next.ok());
    releases = server.releases();
    for (const auto& release : releases) {
      CHECK(release["status"] != "pending");
      if (release["status"] == "failed") {
        CHECK(release["live"] == false);
      }
    }
    CHECK(releases[0]["live"] == true);
    CHECK(releases[0]["status"] == "succeeded");
  }
  server.procfile("web: echo final\n");
  auto final_deploy = server.deploy(k_commit_b);
  INFO(final_deploy.output);
  REQUIRE(final_deploy.ok());
  CHECK(server.releases()[0]["process_types"] == json{{"web", "echo final"}});
}
