// `slipway build` end to end: the real binary, real buildpacks in bubblewrap, real slugs.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/slug.hpp"
#include "runtime/launch.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A scratch root (for slipway.toml), an app dir and a place for the slug.
struct Workspace {
  TempDir dir;
  fs::path root() const { return dir / "root"; }
  fs::path app() const { return dir / "app"; }
  fs::path slug() const { return dir / "slug.tar.zst"; }

  Workspace() {
    fs::create_directories(root());
    fs::create_directories(app());
  }
  void config(const std::string& toml) const { write_file(root() / "slipway.toml", toml); }

  ExitStatus build(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"--root", root().string(), "build", app().string(),
                                     "-o",     slug().string(), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_slipway(args);
  }
  // The JSON object `build --json` printed last.
  static json result(const ExitStatus& status) {
    auto start = status.output.rfind("\n{\n");
    REQUIRE(start != std::string::npos);
    return json::parse(status.output.substr(start + 1));
  }
  fs::path unpack() const {
    auto out = dir / "unpacked";
    REQUIRE(unpack_slug(slug(), out));
    return out;
  }
};

std::string buildpack(const std::string& name) {
  return fixture("buildpacks/" + name).string();
}

// Runs `command` the way a dyno would, in the unpacked slug.
std::string launch(const fs::path& app, const std::string& command,
                   std::map<std::string, std::string> env = {}) {
  auto launch = launch_command({.app_dir = app, .command = command, .env = env});
  REQUIRE(launch);
  auto status = run(*launch);
  REQUIRE(status);
  return status->output;
}

int count_processes(const std::string& pattern) {
  auto status = run_program({"pgrep", "-c", "-f", pattern});
  return std::stoi(status.output.empty() ? "0" : status.output);
}

} // namespace

TEST_CASE("a failing buildpack fails the build, naming it and its exit status", "[build]") {
  Workspace ws;
  auto status = ws.build({"--buildpack", buildpack("failing")});
  CHECK(status.code == 1);
  CHECK(contains(status.output, "about to fail"));
  CHECK(contains(status.output,
                 " !     buildpack 'failing' failed: bin/compile exited with status 3"));
  CHECK_FALSE(fs::exists(ws.slug()));
}

TEST_CASE("a buildpack that hangs past the build timeout is killed with its children", "[build]") {
  Workspace ws;
  ws.config("[build]\ntimeout = \"3s\"\n");
  int before = count_processes("^sleep 1000$");
  auto start = std::chrono::steady_clock::now();
  auto status = ws.build({"--buildpack", buildpack("hanging")});
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(status.code == 1);
  CHECK(contains(status.output, "hanging"));
  CHECK(contains(status.output,
                 " !     build timed out after 3s (buildpack 'hanging' was compiling)"));
  CHECK(took < std::chrono::seconds(15));
  CHECK(count_processes("^sleep 1000$") == before);
}

TEST_CASE("a buildpack that prints 50 MB streams all of it and the build succeeds", "[build]") {
  Workspace ws;
  auto status = ws.build({"--buildpack", buildpack("chatty")});
  CHECK(status.code == 0);
  CHECK(status.output.size() > 50'000'000);
  CHECK(fs::exists(ws.slug()));
}

TEST_CASE("the second buildpack of a chain sees the first one's export", "[build]") {
  Workspace ws;
  auto status =
      ws.build({"--buildpack", buildpack("exporter"), "--buildpack", buildpack("export-reader")});
  INFO(status.output);
  REQUIRE(status.code == 0);
  auto result = Workspace::result(status);
  REQUIRE(result["buildpacks"].size() == 2);
  CHECK(result["buildpacks"][0]["ref"] == buildpack("exporter"));
  auto app = ws.unpack();
  CHECK(read_text(app / "greeting.txt") == "hello-from-exporter\n");
  CHECK(read_text(app / "exporter.txt") == "exporter ran\n");
  // The export was written into slipway's copy, never into the buildpack itself.
  CHECK_FALSE(fs::exists(fixture("buildpacks/exporter/export")));
}

TEST_CASE("ENV_DIR holds one file per config var and none is exported to compile", "[build]") {
  Workspace ws;
  auto env = ws.dir / "env";
  write_file(env / "DATABASE_URL", "postgres://db/x");
  write_file(env / "EMPTY", "");
  auto status = ws.build({"--buildpack", buildpack("env-reader"), "--env-dir", env.string()});
  INFO(status.output);
  REQUIRE(status.code == 0);
  auto app = ws.unpack();
  CHECK(read_text(app / "env-dir.txt") == "DATABASE_URL=postgres://db/x\nEMPTY=\n");
  CHECK(read_text(app / "env-exported.txt") == "DATABASE_URL=not-exported\nEMPTY=not-exported\n");
}

TEST_CASE("bin/release config_vars reach .profile.d and default types fill the Procfile's gaps",
          "[build]") {
  Workspace ws;
  write_file(ws.app() / "Procfile", "web: echo procfile-web\n");
  auto status = ws.build({"--buildpack", buildpack("config-vars")});
  INFO(status.output);
  REQUIRE(status.code == 0);
  auto result = Workspace::result(status);
  CHECK(result["process_types"] ==
        json{{"web", "echo procfile-web"}, {"worker", "echo default-worker"}});
  CHECK(contains(status.output, "Procfile declares types     -> web"));
  CHECK(contains(status.output, "Default types for buildpack -> web, worker"));

  auto app = ws.unpack();
  CHECK(launch(app, "echo \"$FROM_BUILDPACK|$QUOTED\"") == "yes|it's \"x\" $HOME\n");
  // The app's own config var wins over the buildpack's default.
  CHECK(launch(app, "echo \"$FROM_BUILDPACK\"", {{"FROM_BUILDPACK", "mine"}}) == "mine\n");
}

TEST_CASE("malformed bin/release YAML fails the build and names the buildpack", "[build]") {
  Workspace ws;
  auto status = ws.build({"--buildpack", buildpack("bad-release")});
  CHECK(status.code == 1);
  CHECK(contains(status.output,
                 " !     buildpack 'bad-release': bin/release printed malformed YAML"));
}

TEST_CASE("bin/release runs after bin/compile, as in a sandbox of its own: no export reaches "
          "it, compile cannot write its output, and each failure names its script",
          "[build]") {
  Workspace ws;
  write_file(ws.app() / "Procfile", "web: echo web\n");
  auto build = [&] {
    return ws.build(
        {"--buildpack", buildpack("exporter"), "--buildpack", buildpack("release-cases")});
  };
  auto status = build();
  INFO(status.output);
  REQUIRE(status.code == 0);
  // The exporter's GREETING reached compile's environment but not release's.
  CHECK(Workspace::result(status)["process_types"]["worker"] == "echo greeting=unset compiled=yes");
  CHECK(read_text(ws.unpack() / "compile-fds.txt") == "pipes open in compile: none\n");

  write_file(ws.app() / "release-fails", "");
  status = build();
  CHECK(status.code == 1);
  CHECK(contains(status.output, "buildpack 'release-cases': bin/release exited with status 4: "
                                "release broke: no luck today"));
  // Said once, in the error: release's stderr is not streamed as compile's output is.
  auto said = status.output.find("release broke");
  CHECK(status.output.find("release broke", said + 1) == std::string::npos);

  fs::remove(ws.app() / "release-fails");
  write_file(ws.app() / "release-floods", "");
  status = build();
  CHECK(status.code == 1);
  CHECK(contains(status.output, "bin/release printed more than 1048576 bytes of YAML"));

  write_file(ws.app() / "compile-fails", "");
  status = build();
  CHECK(status.code == 1);
  CHECK(contains(status.output, "buildpack 'release-cases' failed: bin/compile exited with "
                                "status 3"));
  CHECK_FALSE(contains(status.output, "bin/release"));
}

TEST_CASE("when no buildpack claims the app the error lists every one tried", "[build]") {
  Workspace ws;
  write_file(ws.app() / "README", "nothing to build here\n");
  auto status = ws.build();
  CHECK(status.code == 1);
  CHECK(contains(status.output, " !     no buildpack applies to this app: it has no Procfile"));
  CHECK(contains(status.output, "(tried procfile, nodejs, python, go, ruby, static, cmake)"));

  ws.config(fmt::format("[build]\nbuildpacks = [\"{}\", \"procfile\"]\n", buildpack("never")));
  status = ws.build();
  CHECK(contains(status.output, fmt::format("(tried {}, procfile)", buildpack("never"))));
}

TEST_CASE("a buildpack named explicitly must still pass its bin/detect", "[build]") {
  Workspace ws;
  auto status = ws.build({"--buildpack", buildpack("never")});
  CHECK(status.code == 1);
  CHECK(contains(status.output, "does not apply to this app"));
}

TEST_CASE("the app's .buildpacks or app.json chooses its buildpacks", "[build]") {
  SECTION(".buildpacks") {
    Workspace ws;
    write_file(ws.app() / ".buildpacks", "# the chain\n" + buildpack("exporter") + "\n\n" +
                                             buildpack("export-reader") + "\n");
    auto status = ws.build();
    INFO(status.output);
    REQUIRE(status.code == 0);
    CHECK(Workspace::result(status)["buildpacks"].size() == 2);
  }
  SECTION("app.json") {
    Workspace ws;
    write_file(
        ws.app() / "app.json",
        json{{"name", "x"},
             {"buildpacks", {{{"url", buildpack("exporter")}}, {{"url", "heroku/procfile"}}}}}
            .dump());
    write_file(ws.app() / "Procfile", "web: true\n");
    auto status = ws.build();
    INFO(status.output);
    REQUIRE(status.code == 0);
    auto result = Workspace::result(status);
    CHECK(result["buildpacks"][1]["ref"] == "heroku/procfile");
  }
  SECTION("malformed app.json") {
    Workspace ws;
    write_file(ws.app() / "app.json", "{\"buildpacks\": [");
    auto status = ws.build();
    CHECK(status.code == 1);
    CHECK(contains(status.output, " !     app.json: malformed JSON"));
  }
  SECTION("malformed .buildpacks") {
    Workspace ws;
    write_file(ws.app() / ".buildpacks", "https://example.com/a.git extra words\n");
    auto status = ws.build();
    CHECK(status.code == 1);
    CHECK(contains(status.output, " !     .buildpacks line 1:"));
  }
}

TEST_CASE("a git buildpack is cloned at the ref after '#'", "[build]") {
  Workspace ws;
  auto repo = ws.dir / "bp-repo";
  fs::copy(fixture("buildpacks/exporter"), repo, fs::copy_options::recursive);
  auto git = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"git", "-C", repo.string(), "-c", "user.name=t", "-c",
                               "user.email=t@example.com"});
    auto status = run_program(args);
    REQUIRE(status.ok());
    return status.output;
  };
  git({"init", "-q", "-b", "main"});
  git({"add", "."});
  git({"commit", "-qm", "v1"});
  git({"tag", "v1"});
  std::string v1 = git({"rev-parse", "HEAD"});
  v1.pop_back();
  write_file(repo / "bin/compile", "#!/bin/sh\necho broken at main; exit 7\n", 0755);
  git({"commit", "-qam", "break it"});

  auto status = ws.build({"--buildpack", "file://" + repo.string() + "#v1"});
  INFO(status.output);
  REQUIRE(status.code == 0);
  CHECK(Workspace::result(status)["buildpacks"][0]["commit"] == v1);

  status = ws.build({"--buildpack", "file://" + repo.string()});
  CHECK(status.code == 1);
  CHECK(contains(status.output, "broken at main"));

  status = ws.build({"--buildpack", "file://" + repo.string() + "#no-such-tag"});
  CHECK(status.code == 1);
  CHECK(contains(status.output, "has no branch, tag or commit 'no-such-tag'"));
}

TEST_CASE("a malformed Procfile fails the build and names the line", "[build]") {
  Workspace ws;
  write_file(ws.app() / "Procfile", "web: ./server\nthis line has no colon\n");
  auto status = ws.build();
  CHECK(status.code == 1);
  CHECK(
      contains(status.output, " !     Procfile line 2: malformed entry 'this line has no colon'"));
}

TEST_CASE(".slugignore removes files before any buildpack runs", "[build]") {
  Workspace ws;
  write_file(ws.app() / "Procfile", "web: true\n");
  write_file(ws.app() / ".slugignore", "# big test data\n*.psd\n/docs/\nspec/**/fixtures\n");
  write_file(ws.app() / "art/logo.psd", "x");
  write_file(ws.app() / "docs/guide.md", "x");
  write_file(ws.app() / "lib/docs/keep.md", "x");
  write_file(ws.app() / "spec/a/b/fixtures/big", "x");
  write_file(ws.app() / "spec/a/keep_spec.rb", "x");
  auto status = ws.build({"--buildpack", buildpack("env-reader")});
  INFO(status.output);
  REQUIRE(status.code == 0);
  CHECK(contains(status.output, "-----> Removed 3 entries named by .slugignore"));
  auto app = ws.unpack();
  CHECK_FALSE(fs::exists(app / "art/logo.psd"));
  CHECK_FALSE(fs::exists(app / "docs"));
  CHECK(fs::exists(app / "lib/docs/keep.md"));
  CHECK_FALSE(fs::exists(app / "spec/a/b/fixtures"));
  CHECK(fs::exists(app / "spec/a/keep_spec.rb"));

  write_file(ws.app() / ".slugignore", "!keep-me\n");
  status = ws.build({"--buildpack", buildpack("env-reader")});
  CHECK(status.code == 1);
  CHECK(contains(status.output, " !     .slugignore line 1: negation is not supported"));
}

TEST_CASE("a symlink to /etc/passwd and a newline in a file name survive as they are", "[build]") {
  Workspace ws;
  write_file(ws.app() / "Procfile", "web: true\n");
  write_file(ws.app() / "odd\nname.txt", "newline\n");
  fs::create_symlink("/etc/passwd", ws.app() / "passwd");
  auto status = ws.build();
  INFO(status.output);
  REQUIRE(status.code == 0);
  auto app = ws.unpack();
  CHECK(fs::is_symlink(app / "passwd"));
  CHECK(fs::read_symlink(app / "passwd") == "/etc/passwd");
  CHECK(read_text(app / "odd\nname.txt") == "newline\n");
}

TEST_CASE("bad configuration and bad arguments are refused before anything runs", "[build]") {
  Workspace ws;
  ws.config("[build]\ntimout = \"3s\"\n");
  auto status = ws.build();
  CHECK(status.code == 1);
  CHECK(contains(status.output, "unknown key 'build.timout'"));

  Workspace ws2;
  status = ws2.build({"--buildpack", "no-such-buildpack"});
  CHECK(status.code == 1);
  CHECK(contains(status.output, "unknown buildpack 'no-such-buildpack'"));

  status = run_slipway({"build", (ws2.dir / "missing").string(), "-o", ws2.slug().string()});
  CHECK(status.code == 2);
  status = run_slipway({"build"});
  CHECK(status.code == 2);
}

TEST_CASE("the none sandbox builds on the host and says so", "[build]") {
  Workspace ws;
  ws.config("[build]\nsandbox = \"none\"\n");
  auto status =
      ws.build({"--buildpack", buildpack("exporter"), "--buildpack", buildpack("export-reader")});
  INFO(status.output);
  REQUIRE(status.code == 0);
  CHECK(contains(status.output, "warning: sandbox = \"none\""));
  CHECK(read_text(ws.unpack() / "greeting.txt") == "hello-from-exporter\n");
}

TEST_CASE("a slug written into a directory is named by its SHA-256", "[build]") {
  Workspace ws;
  write_file(ws.app() / "Procfile", "web: true\n");
  auto store = ws.dir / "slugs";
  fs::create_directories(store);
  auto status = run_slipway(
      {"--root", ws.root().string(), "build", ws.app().string(), "-o", store.string(), "--json"});
  INFO(status.output);
  REQUIRE(status.code == 0);
  auto result = Workspace::result(status);
  CHECK(result["slug"] == (store / (result["sha256"].get<std::string>() + ".tar.zst")).string());
  CHECK(fs::exists(result["slug"].get<std::string>()));
}
