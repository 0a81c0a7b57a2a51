// `git push` deploys with the stock git client: pushes go to the app's bare repository on a
// local path, so git's receive-pack runs slipway's hooks exactly as over ssh.
#include <future>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A slipway root with app(s), and a work tree to commit and push from.
struct Push {
  TempDir dir;
  fs::path root = dir / "root";
  fs::path work = dir / "work";

  explicit Push(const std::string& app = "demo") {
    REQUIRE(slipway({"init"}).ok());
    create(app);
    git({"init", "-q", "-b", "main", work.string()}, dir.path());
    procfile("web: echo one\n");
  }
  void create(const std::string& app) const { REQUIRE(slipway({"apps:create", app}).ok()); }

  ExitStatus slipway(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--root", root.string()});
    return run_slipway(args);
  }
  std::string git(std::vector<std::string> args, const fs::path& cwd) const {
    args.insert(args.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@example.com"});
    auto status = run_program(args, cwd);
    INFO(status.output);
    REQUIRE(status.ok());
    return status.output;
  }
  void procfile(const std::string& text) const { write_file(work / "Procfile", text); }
  std::string commit(const std::string& message) const {
    git({"add", "-A"}, work);
    git({"commit", "-qm", message, "--allow-empty"}, work);
    auto id = git({"rev-parse", "HEAD"}, work);
    return id.substr(0, 40);
  }
  fs::path repo(const std::string& app = "demo") const { return root / "repos" / (app + ".git"); }
  ExitStatus push(std::vector<std::string> refspecs = {"main"}, const std::string& app = "demo",
                  const fs::path& from = {}) const {
    std::vector<std::string> argv = {"git", "push", repo(app).string()};
    argv.insert(argv.end(), refspecs.begin(), refspecs.end());
    return run_program(argv, from.empty() ? work : from);
  }
  std::string remote_main(const std::string& app = "demo") const {
    auto status = run_program({"git", "ls-remote", repo(app).string(), "refs/heads/main"});
    return status.output.substr(0, std::min<std::size_t>(40, status.output.size()));
  }
  json releases(const std::string& app = "demo") const {
    return json::parse(slipway({"releases", "-a", app, "--json", "-n", "0"}).output);
  }
  std::string current(const std::string& app = "demo") const {
    std::error_code ec;
    return fs::read_symlink(root / "apps" / app / "current", ec).string();
  }
};

void check_rejected(const ExitStatus& status, const std::string& why) {
  INFO(status.output);
  CHECK(status.code != 0);
  CHECK(contains(status.output, "pre-receive hook declined"));
  CHECK(contains(status.output, "remote:  !     " + why));
}

} // namespace

TEST_CASE("a push of the deploy branch builds, releases and shows the build as it happens",
          "[push]") {
  Push push;
  std::string id = push.commit("first");
  auto status = push.push();
  INFO(status.output);
  REQUIRE(status.ok());
  CHECK(
      contains(status.output, "remote: -----> Building demo from " + id.substr(0, 7) + " (main)"));
  CHECK(contains(status.output, "remote: -----> Procfile app detected"));
  CHECK(contains(status.output, "remote: -----> Launching v1... done"));
  CHECK(push.remote_main() == id);
  auto releases = push.releases();
  REQUIRE(releases.size() == 1);
  CHECK(releases[0]["commit"] == id);
  CHECK(releases[0]["description"] == "Deploy " + id.substr(0, 7));
  CHECK(releases[0]["live"] == true);
  CHECK(push.current() == "releases/v1");

  auto builds = json::parse(push.slipway({"builds", "-a", "demo", "--json"}).output);
  REQUIRE(builds.size() == 1);
  CHECK(builds[0]["status"] == "succeeded");
  CHECK(builds[0]["release"] == 1);
  auto log = push.slipway({"builds:output", "-a", "demo"}).output;
  CHECK(contains(log, "-----> Building demo from " + id.substr(0, 7)));
  CHECK(contains(log, "deployed (v1)"));

  // The build dir outlived the push; post-receive's detached housekeeping removes it.
  auto tmp = push.root / "apps/demo/tmp";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::is_empty(tmp) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(fs::is_empty(tmp));
}

TEST_CASE("a push whose build, release command or Procfile fails is rejected and changes "
          "nothing",
          "[push]") {
  Push push;
  std::string good = push.commit("good");
  REQUIRE(push.push().ok());

  SECTION("the build fails") {
    // A pushed app may name a buildpack on the server's disk only where the admin allows.
    write_file(push.root / "slipway.toml", fmt::format("[build]\nlocal_buildpacks = [\"{}\"]\n",
                                                       fixture("buildpacks").string()));
    write_file(push.work / ".buildpacks", fixture("buildpacks/failing").string() + "\n");
    push.commit("failing build");
    check_rejected(push.push(), "buildpack 'failing' failed: bin/compile exited with status 3");
    auto builds = json::parse(push.slipway({"builds", "-a", "demo", "--json"}).output);
    CHECK(builds[0]["status"] == "failed");
    CHECK(contains(push.slipway({"builds:output", "-a", "demo"}).output, "about to fail"));
  }
  SECTION("the release command fails") {
    push.procfile("web: echo two\nrelease: echo nope; exit 4\n");
    push.commit("failing release");
    check_rejected(push.push(), "release command exited with status 4; v1 is still live");
    CHECK(push.releases()[0]["status"] == "failed");
  }
  SECTION("the Procfile is malformed") {
    push.procfile("web echo missing colon\n");
    push.commit("bad procfile");
    check_rejected(push.push(), "Procfile line 1: malformed entry 'web echo missing colon'");
  }
  SECTION("the commit holds a submodule") {
    write_file(push.work / ".gitmodules", "[submodule \"lib\"]\n\tpath = lib\n\turl = x\n");
    push.git({"add", ".gitmodules"}, push.work);
    // A gitlink with no work tree behind it: `git add -A` would drop it again.
    push.git({"update-index", "--add", "--cacheinfo", "160000," + good + ",lib"}, push.work);
    push.git({"commit", "-qm", "submodule"}, push.work);
    check_rejected(push.push(), "submodule 'lib' is not supported yet");
  }
  CHECK(push.remote_main() == good);
  CHECK(push.current() == "releases/v1");
}

TEST_CASE("other branches and tags are accepted without deploying and deleting main is refused",
          "[push]") {
  Push push;
  std::string first = push.commit("first");
  REQUIRE(push.push().ok());
  push.git({"checkout", "-q", "-b", "feature"}, push.work);
  push.commit("feature work");
  push.git({"tag", "v1.0"}, push.work);
  auto status = push.push({"feature", "v1.0"});
  INFO(status.output);
  REQUIRE(status.ok());
  CHECK(contains(status.output,
                 "remote: -----> Accepted feature without deploying: only main and master deploy"));
  CHECK(contains(status.output, "remote: -----> Accepted tag v1.0 without deploying"));
  CHECK(push.releases().size() == 1);

  check_rejected(push.push({":main"}), "deleting the deploy branch 'main' is not allowed");
  CHECK(push.remote_main() == first);
}

TEST_CASE("main and master both deploy, one per push, and one of them may be deleted", "[push]") {
  Push push;
  std::string first = push.commit("first");
  auto status = push.push({"main:master"});
  INFO(status.output);
  REQUIRE(status.ok());
  CHECK(contains(status.output, "(master)"));
  REQUIRE(push.releases().size() == 1);
  CHECK(push.releases()[0]["commit"] == first);
  // A clone checks out what deployed: HEAD followed master, as main does not exist.
  auto clone =
      run_program({"git", "clone", "-q", push.repo().string(), (push.dir / "clone").string()});
  INFO(clone.output);
  CHECK(clone.ok());
  CHECK_FALSE(contains(clone.output, "nonexistent ref"));
  CHECK(fs::exists(push.dir / "clone/Procfile"));
  // git gc --auto runs at slipway's housekeeping, not in receive-pack before a push returns.
  CHECK(push.git({"config", "--get", "receive.autogc"}, push.repo()) == "false\n");

  std::string second = push.commit("second");
  status = push.push({"main"});
  REQUIRE(status.ok());
  CHECK(contains(status.output, "(main)"));
  REQUIRE(push.releases().size() == 2);
  CHECK(push.releases()[0]["commit"] == second);

  // One push, two deploy branches: which would be live is not the pusher's to guess.
  push.commit("third");
  check_rejected(push.push({"main", "main:master"}),
                 "this push updates main and master: push one deploy branch at a time");
  CHECK(push.releases().size() == 2);
  CHECK(push.remote_main() == second);

  // master may go while main stays; the last deploy branch may not.
  status = push.push({":master"});
  INFO(status.output);
  REQUIRE(status.ok());
  CHECK(contains(status.output, "Deleted master"));
  check_rejected(push.push({":main"}), "deleting the deploy branch 'main' is not allowed");
  CHECK(push.releases().size() == 2);

  // A repository made by an earlier slipway gets receive.autogc = false at housekeeping.
  push.git({"config", "--unset", "receive.autogc"}, push.repo());
  push.commit("fourth");
  REQUIRE(push.push({"main"}).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string autogc;
  while (autogc != "false\n" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    autogc = run_program({"git", "config", "--get", "receive.autogc"}, push.repo()).output;
  }
  CHECK(autogc == "false\n");
}

TEST_CASE("a force push of an older commit deploys it as a new release", "[push]") {
  Push push;
  std::string first = push.commit("first");
  REQUIRE(push.push().ok());
  push.procfile("web: echo two\n");
  push.commit("second");
  REQUIRE(push.push().ok());
  push.git({"reset", "-q", "--hard", first}, push.work);
  auto status = push.push({"--force", "main"});
  INFO(status.output);
  REQUIRE(status.ok());
  auto releases = push.releases();
  REQUIRE(releases.size() == 3);
  CHECK(releases[0]["commit"] == first);
  CHECK(releases[0]["live"] == true);
  CHECK(push.remote_main() == first);
}

TEST_CASE("pushes at once: the same app one after the other, different apps side by side",
          "[push]") {
  Push push;
  push.create("other");
  push.procfile("web: echo one\nrelease: sleep 1\n");
  push.commit("first");
  REQUIRE(push.push().ok());

  SECTION("two apps") {
    push.procfile("web: echo two\nrelease: sleep 1\n");
    push.commit("second");
    auto a = std::async(std::launch::async, [&] { return push.push({"main"}, "demo"); });
    auto b = std::async(std::launch::async, [&] { return push.push({"main"}, "other"); });
    CHECK(a.get().ok());
    CHECK(b.get().ok());
    CHECK(push.releases("demo").size() == 2);
    CHECK(push.releases("other").size() == 1);
  }
  SECTION("the same app") {
    // A second clone pushes a commit on top of the first while the first push is deploying.
    fs::path second = push.dir / "second";
    push.git({"clone", "-q", push.repo().string(), second.string()}, push.dir.path());
    push.procfile("web: echo two\nrelease: sleep 1\n");
    push.commit("from work");
    write_file(second / "Procfile", "web: echo three\nrelease: sleep 1\n");
    push.git({"commit", "-qam", "from second"}, second);
    auto a = std::async(std::launch::async, [&] { return push.push(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto b = std::async(std::launch::async, [&] { return push.push({"main"}, "demo", second); });
    auto first_status = a.get();
    auto second_status = b.get();
    INFO(first_status.output << "\n---\n" << second_status.output);
    CHECK(first_status.ok());
    // git itself refuses a push whose branch moved meanwhile; slipway says so before
    // building, so git and the live release still agree.
    check_rejected(second_status, "main moved to ");
    CHECK(contains(second_status.output, "Waiting for another deploy"));
    auto releases = push.releases();
    CHECK(releases[0]["commit"] == push.remote_main());
    CHECK(releases[0]["live"] == true);
    // Fetched and merged, the second clone's push deploys.
    push.git({"pull", "-q", "--no-rebase", "-X", "theirs", "origin", "main"}, second);
    auto retry = push.push({"main"}, "demo", second);
    INFO(retry.output);
    CHECK(retry.ok());
    CHECK(push.releases()[0]["commit"] == push.remote_main());
  }
}

TEST_CASE("a push that arrives as a pack and one with 10,000 files deploy in bounded memory",
          "[push]") {
  Push push;
  for (int i = 0; i < 10000; ++i) {
    write_file(push.work / fmt::format("files/d{:03}/f{:05}.txt", i / 100, i),
               fmt::format("file {} {}\n", i, std::string(i % 200, 'x')));
  }
  push.git({"config", "receive.unpackLimit", "100"}, push.repo());
  push.commit("ten thousand files");
  auto status = push.push();
  INFO(status.output);
  REQUIRE(status.ok());
  auto builds = json::parse(push.slipway({"builds", "-a", "demo", "--json"}).output);
  long peak_kb = builds[0]["peak_rss_kb"];
  WARN("pre-receive hook peak RSS for a 10,000-file push: " << peak_kb / 1024 << " MB");
#if !defined(__SANITIZE_ADDRESS__) // ASan's shadow memory and quarantine inflate RSS
  CHECK(peak_kb < 100 * 1024);
#endif
  // The objects arrived as a pack, not loose objects.
  bool has_pack = false;
  for (const auto& entry : fs::directory_iterator(push.repo() / "objects/pack")) {
    has_pack |= entry.path().extension() == ".pack";
  }
  CHECK(has_pack);
  auto slug_status = push.slipway({"releases:info", "-a", "demo", "--json"});
  CHECK(json::parse(slug_status.output)["status"] == "succeeded");
}

TEST_CASE("an app's own deploy_branch in app.toml decides what deploys", "[push]") {
  Push push;
  auto app_toml = push.root / "apps/demo/app.toml";
  write_file(app_toml, read_text(app_toml) + "deploy_branch = \"production\"\n");
  push.commit("first");
  auto status = push.push({"main"});
  INFO(status.output);
  REQUIRE(status.ok());
  CHECK(contains(status.output, "Accepted main without deploying: only production deploys"));
  CHECK(push.releases().empty());
  status = push.push({"main:production"});
  REQUIRE(status.ok());
  CHECK(contains(status.output, "(production)"));
  CHECK(push.releases().size() == 1);

  write_file(app_toml, read_text(app_toml) + "colour = \"blue\"\n");
  push.commit("second");
  check_rejected(push.push({"main:production"}), (push.root / "apps/demo/app.toml").string());
  CHECK(push.releases().size() == 1);
}
