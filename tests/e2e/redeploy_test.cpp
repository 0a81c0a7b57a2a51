// Fast redeploys (bench/redeploy): a build whose dependencies did not change reuses the
// cached install without running the package manager and says so; one whose dependencies
// changed installs them, and the new version is what runs; a process's writes vanish at its
// restart and never reach the stored release, which it starts on without a copy.
#include <algorithm>
#include <future>
#include <signal.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/slug.hpp"
#include "tests/e2e/daemon_harness.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Builds `app` into DIR/slug.tar.zst with DIR/cache, which must succeed; its output.
std::string build(const fs::path& app, const fs::path& dir) {
  auto built = run_slipway({"--root", (dir / "root").string(), "build", app.string(), "-o",
                            (dir / "slug.tar.zst").string(), "--cache", (dir / "cache").string()});
  INFO(built.output);
  REQUIRE(built.ok());
  return built.output;
}

// A process whose arguments include each of `args`, or 0.
pid_t process_with_args(const std::vector<std::string>& args) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::string cmdline = read_text(entry.path() / "cmdline");
    std::vector<std::string> argv;
    for (std::size_t at = 0; at < cmdline.size();) {
      std::size_t end = cmdline.find('\0', at);
      end = end == std::string::npos ? cmdline.size() : end;
      argv.push_back(cmdline.substr(at, end - at));
      at = end + 1;
    }
    if (std::ranges::all_of(args, [&](const std::string& arg) {
          return std::ranges::find(argv, arg) != argv.end();
        })) {
      return std::stoi(name);
    }
  }
  return 0;
}

// The slug's files, unpacked afresh.
fs::path unpacked(const fs::path& dir) {
  fs::path out = dir / "unpacked";
  fs::remove_all(out);
  REQUIRE(unpack_slug(dir / "slug.tar.zst", out));
  return out;
}

// vendor/slipway_pin-VERSION-py3-none-any.whl: a wheel whose module says its version.
void write_wheel(const fs::path& app, const std::string& version) {
  auto made = run_program(
      {"python3", "-c", R"(
import sys, zipfile
version, out = sys.argv[1], sys.argv[2]
info = f"slipway_pin-{version}.dist-info"
with zipfile.ZipFile(out, "w") as whl:
    whl.writestr("slipway_pin.py", f"VERSION = {version!r}\n")
    whl.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: slipway-pin\nVersion: {version}\n")
    whl.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    whl.writestr(f"{info}/RECORD", "")
)",
       version, (app / fmt::format("vendor/slipway_pin-{}-py3-none-any.whl", version)).string()});
  INFO(made.output);
  REQUIRE(made.ok());
}

std::string installed_pin(const fs::path& app) {
  for (const auto& entry : fs::recursive_directory_iterator(app / ".venv")) {
    if (entry.path().filename() == "slipway_pin.py") {
      return read_text(entry.path());
    }
  }
  return "";
}

} // namespace

TEST_CASE("python: unchanged requirements skip pip, changed ones install the new version",
          "[redeploy]") {
  TempDir dir;
  fs::path app = dir / "app";
  fs::create_directories(app / "vendor");
  write_file(app / "app.py", "print('hi')\n");
  write_wheel(app, "1.0");
  write_wheel(app, "2.0");
  write_file(app / "requirements.txt", "slipway-pin==1.0\n");

  auto cold = build(app, dir.path());
  INFO(cold);
  CHECK(contains(cold, "Installing requirements from the wheels in vendor/"));
  CHECK(installed_pin(unpacked(dir.path())) == "VERSION = '1.0'\n");
  // The venv holds the app's packages, not pip's.
  CHECK_FALSE(fs::exists(unpacked(dir.path()) / ".venv/bin/pip"));

  write_file(app / "app.py", "print('hi again')\n");
  auto warm = build(app, dir.path());
  INFO(warm);
  CHECK(contains(warm,
                 "Requirements unchanged: reusing the installed packages from the cache (pip not "
                 "run)"));
  CHECK_FALSE(contains(warm, "Installing requirements"));
  CHECK(installed_pin(unpacked(dir.path())) == "VERSION = '1.0'\n");

  write_file(app / "requirements.txt", "slipway-pin==2.0\n");
  auto changed = build(app, dir.path());
  INFO(changed);
  CHECK(contains(changed, "Installing requirements from the wheels in vendor/"));
  CHECK(installed_pin(unpacked(dir.path())) == "VERSION = '2.0'\n");

  // A requirement that names another file: what the key cannot see, pip still checks.
  write_file(app / "requirements.txt", "-r pins.txt\n");
  write_file(app / "pins.txt", "slipway-pin==2.0\n");
  build(app, dir.path());
  write_file(app / "pins.txt", "slipway-pin==1.0\n");
  auto included = build(app, dir.path());
  INFO(included);
  CHECK(contains(included, "pip checks what they include"));
  CHECK(installed_pin(unpacked(dir.path())) == "VERSION = '1.0'\n");

  // Nothing required: no virtualenv at all.
  write_file(app / "requirements.txt", "# nothing\n");
  auto none = build(app, dir.path());
  INFO(none);
  CHECK(contains(none, "no virtualenv made"));
  CHECK_FALSE(fs::exists(unpacked(dir.path()) / ".venv"));
}

TEST_CASE("node: an unchanged lockfile runs no npm but the build, a changed one installs it",
          "[redeploy]") {
  TempDir dir;
  fs::path app = dir / "app";
  fs::copy(fixture("apps/nodejs"), app, fs::copy_options::recursive);
  auto cold = build(app, dir.path());
  INFO(cold);
  CHECK(contains(cold, "Installing dependencies with npm ci"));

  write_file(app / "server.js", read_text(app / "server.js") + "// one more line\n");
  auto warm = build(app, dir.path());
  INFO(warm);
  CHECK(contains(warm, "Dependencies unchanged (lockfile): reusing node_modules from the "
                       "cache (npm not run)"));
  CHECK(contains(warm, "Pruning dev dependencies (as npm prune did for this lockfile"));
  CHECK_FALSE(contains(warm, "npm ci"));
  auto tree = unpacked(dir.path());
  CHECK(fs::exists(tree / "node_modules/express/package.json"));
  CHECK_FALSE(fs::exists(tree / "node_modules/is-number")); // the dev dependency, pruned
  CHECK(fs::exists(tree / "build/message.txt"));            // the build script ran
  CHECK(contains(read_text(tree / "node_modules/ms/package.json"), "\"version\": \"2.1.3\""));

  // The lockfile moves ms to 2.1.2: installed, and the cache's tree is not what runs.
  auto locked = run_program(
      {"npm", "install", "--package-lock-only", "--no-audit", "--no-fund", "ms@2.1.2"}, app);
  INFO(locked.output);
  REQUIRE(locked.ok());
  auto changed = build(app, dir.path());
  INFO(changed);
  CHECK(contains(changed, "Installing dependencies with npm ci"));
  tree = unpacked(dir.path());
  CHECK(contains(read_text(tree / "node_modules/ms/package.json"), "\"version\": \"2.1.2\""));
  CHECK_FALSE(fs::exists(tree / "node_modules/is-number"));
}

TEST_CASE("a process's writes vanish at its restart and never reach the stored release",
          "[redeploy]") {
  daemon_e2e::Server server;
  // Each start rewrites version.txt in place (it gains a '+') and makes a directory.
  write_file(server.work / "Procfile",
             "web: printf '%s+' \"$(cat version.txt)\" > version.txt && mkdir made && "
             "python3 server.py\n");
  auto pushed = server.push("v1");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  REQUIRE(server.serves("v1+ web.1"));

  REQUIRE(server.slipway({"ps:restart", "-a", "demo"}).ok());
  REQUIRE(server.serves("v1+ web.1")); // not "v1++": the start saw the release's files
  CHECK(server.get().body == "v1+ web.1\n");

  fs::path stored = server.root / "apps/demo/releases/v1/app";
  CHECK(read_text(stored / "version.txt") == "v1\n");
  CHECK_FALSE(fs::exists(stored / "made"));

  if (geteuid() == 0) {
    // As root the process's /app is an overlay: its own directory holds what it wrote,
    // not a copy of the release.
    // The running process's: the latest run (the one before may not be removed yet).
    fs::path latest;
    long latest_run = -1;
    for (const auto& entry : fs::directory_iterator(server.root / "run/dynos/demo")) {
      std::string name = entry.path().filename().string();
      if (entry.is_directory() && name.starts_with("web.1-")) {
        long run = std::stol(name.substr(6));
        if (run > latest_run) {
          latest_run = run;
          latest = entry.path();
        }
      }
    }
    REQUIRE(latest_run >= 0);
    std::vector<fs::path> runs{latest};
    CHECK(fs::exists(runs[0] / "upper/version.txt"));
    CHECK(fs::is_directory(runs[0] / "upper/made"));
    CHECK_FALSE(fs::exists(runs[0] / "upper/server.py"));
    CHECK_FALSE(fs::exists(runs[0] / "app/server.py")); // the mount is the process's alone
    // The stored files are the app's, beneath a directory its uid cannot pass.
    CHECK((fs::status(stored).permissions() & fs::perms::all) == fs::perms::owner_all);
  }
}

TEST_CASE("a deploy links the cached node_modules in, a build that writes into them in place "
          "does not reach the next build, and a killed build's cache is taken by the next",
          "[redeploy]") {
  daemon_e2e::Server server;
  for (const auto& entry : fs::directory_iterator(server.work)) {
    if (entry.path().filename() != ".git") {
      fs::remove_all(entry.path());
    }
  }
  fs::copy(fixture("apps/nodejs"), server.work, fs::copy_options::recursive);
  // The build script waits a minute when the app has a file named hang, says whether ms's
  // file is the cache's, writes into it in place when the app has a file named poison, and
  // tries to replace what its / holds.
  write_file(server.work / "build.js", R"(const fs = require("fs");
if (fs.existsSync("hang")) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
const target = "node_modules/ms/index.js";
console.log(`ms shares its file with the cache: ${fs.statSync(target).nlink > 1}`);
if (fs.existsSync("poison")) fs.appendFileSync(target, "\n// poisoned\n");
for (const [what, act] of [["write /", () => fs.writeFileSync("/evil", "x")],
                           ["move /cache", () => fs.renameSync("/cache", "/cache2")],
                           ["move /app", () => fs.renameSync("/app", "/app2")]]) {
  try { act(); console.log(`${what}: done`); } catch (e) { console.log(`${what}: ${e.code}`); }
}
fs.mkdirSync("build", { recursive: true });
fs.writeFileSync("build/message.txt", "built\n");
)");
  fs::path releases = server.root / "apps/demo/releases";
  auto ms_of = [&](int version) {
    return read_text(releases / fmt::format("v{}/app/node_modules/ms/index.js", version));
  };

  // A push that must deploy: its output.
  auto deploy = [&](const std::string& version) {
    auto pushed = server.push(version);
    INFO(pushed.output);
    REQUIRE(pushed.ok());
    return pushed.output;
  };

  auto cold = deploy("v1");
  INFO(cold);
  CHECK(contains(cold, "Installing dependencies with npm ci"));

  auto warm = deploy("v2");
  INFO(warm);
  CHECK(contains(warm, "reusing node_modules from the cache (npm not run)"));
  CHECK(fs::is_directory(server.root / "apps/demo/cache/node_modules")); // home again
  if (geteuid() == 0) {
    // The build's / holds /app and /cache in one mount: linked, not copied. It is root's.
    CHECK(contains(warm, "ms shares its file with the cache: true"));
    CHECK(contains(warm, "write /: EACCES"));
    CHECK(contains(warm, "move /cache: EACCES"));
    CHECK(contains(warm, "move /app: EACCES"));
  }
  REQUIRE(server.serves("hello from nodejs"));

  // A build writes into a dependency's file in place: its own slug has it.
  write_file(server.work / "poison", "");
  deploy("v3");
  CHECK(contains(ms_of(3), "// poisoned"));

  // The next build does not: the cache is no longer what it saved, and npm installs again.
  fs::remove(server.work / "poison");
  auto next = deploy("v4");
  INFO(next);
  if (geteuid() == 0) {
    CHECK(contains(next, "The cached node_modules is not as it was saved"));
    CHECK(contains(next, "Installing dependencies with npm ci"));
  }
  CHECK_FALSE(contains(ms_of(4), "// poisoned"));
  REQUIRE(server.serves("hello from nodejs"));

  // The hook is killed while its build holds the cache: the next deploy takes it back.
  write_file(server.work / "hang", "");
  auto hanging = std::async(std::launch::async, [&] { return server.push("v5"); });
  auto hook = std::chrono::steady_clock::now() + 30s;
  pid_t pid = 0;
  while (pid == 0 && std::chrono::steady_clock::now() < hook) {
    std::this_thread::sleep_for(20ms);
    if (!fs::exists(server.root / "apps/demo/cache")) { // taken: the build has begun
      pid = process_with_args({server.root.string(), "hook", "pre-receive"});
    }
  }
  REQUIRE(pid > 0);
  std::this_thread::sleep_for(300ms); // into the build script, which waits
  ::kill(pid, SIGKILL);
  CHECK_FALSE(hanging.get().ok());

  fs::remove(server.work / "hang");
  auto after = deploy("v6");
  INFO(after);
  CHECK(contains(after, "reusing node_modules from the cache (npm not run)"));
  REQUIRE(server.serves("hello from nodejs"));
}
