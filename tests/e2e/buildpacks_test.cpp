// The built-in buildpacks end to end: each fixture app is built with detection, its slug
// unpacked, its `web` process started in the sandbox with a PORT, and answered over HTTP.
#include <future>
#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/slug.hpp"
#include "common/subprocess.hpp"
#include "compiler/release_yaml.hpp"
#include "runtime/launch.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Built {
  ExitStatus status;
  json result;
  std::chrono::milliseconds took;
};

Built build(const fs::path& app, const fs::path& slug, const fs::path& cache) {
  auto start = std::chrono::steady_clock::now();
  auto status =
      run_slipway({"--root", (slug.parent_path() / "root").string(), "build", app.string(), "-o",
                   slug.string(), "--cache", cache.string(), "--json"});
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  json result;
  if (auto start_of_json = status.output.rfind("\n{\n"); start_of_json != std::string::npos) {
    result = json::parse(status.output.substr(start_of_json + 1));
  }
  return {status, result, took};
}

// The web process of an unpacked slug, running until the scope ends.
class WebProcess {
 public:
  WebProcess(const fs::path& app, const std::string& command, int port) {
    auto launched = launch_command({.app_dir = app,
                                    .command = command,
                                    .env = {{"PORT", std::to_string(port)}, {"DYNO", "web.1"}}});
    REQUIRE(launched);
    Command launch = *launched;
    std::promise<int> started;
    auto pid = started.get_future();
    launch.on_start = [&started](int id) { started.set_value(id); };
    launch.timeout = std::chrono::minutes(5);
    m_exit = std::async(std::launch::async, [launch] { return run(launch); });
    REQUIRE(pid.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    m_pid = pid.get();
  }
  ~WebProcess() {
    kill(m_pid, SIGTERM); // bwrap takes its sandbox down with it
    m_exit.wait();
  }

 private:
  int m_pid = 0;
  std::future<Expected<ExitStatus>> m_exit;
};

void check_serves(const std::string& name, const std::string& expected_web = "",
                  const fs::path& source = {}) {
  TempDir dir;
  auto built =
      build(source.empty() ? fixture("apps/" + name) : source, dir / "slug.tar.zst", dir / "cache");
  INFO(built.status.output);
  REQUIRE(built.status.code == 0);
  auto types = built.result["process_types"];
  REQUIRE(types.contains("web"));
  if (!expected_web.empty()) {
    CHECK(types["web"] == expected_web);
  }
  auto app = dir / "app";
  REQUIRE(unpack_slug(dir / "slug.tar.zst", app));
  int port = free_port();
  WebProcess web(app, types["web"].get<std::string>(), port);
  auto response = http_get(port, "/", std::chrono::seconds(30));
  CHECK(response.status == 200);
  CHECK(contains(response.body, "hello from " + name));
}

} // namespace

TEST_CASE("the procfile buildpack runs an app as pushed", "[buildpacks]") {
  check_serves("procfile");
}

TEST_CASE("the nodejs buildpack installs, builds, prunes and serves", "[buildpacks]") {
  TempDir dir;
  auto cold = build(fixture("apps/nodejs"), dir / "cold.tar.zst", dir / "cache");
  INFO(cold.status.output);
  REQUIRE(cold.status.code == 0);
  CHECK(contains(cold.status.output, "-----> Node.js app detected"));
  CHECK(cold.result["process_types"]["web"] == "node server.js"); // its start script
  auto warm = build(fixture("apps/nodejs"), dir / "warm.tar.zst", dir / "cache");
  REQUIRE(warm.status.code == 0);
  WARN("nodejs fixture build: cold cache " << cold.took.count() << " ms, warm cache "
                                           << warm.took.count() << " ms");
  CHECK(warm.took < cold.took);

  auto app = dir / "app";
  REQUIRE(unpack_slug(dir / "warm.tar.zst", app));
  CHECK(fs::exists(app / "node_modules/express"));
  CHECK_FALSE(fs::exists(app / "node_modules/is-number")); // the dev dependency is pruned
  CHECK(fs::exists(app / "build/message.txt"));            // the build script ran
  int port = free_port();
  WebProcess web(app, "node server.js", port);
  auto response = http_get(port);
  CHECK(response.status == 200);
  CHECK(contains(response.body, "hello from nodejs"));
}

TEST_CASE("the nodejs buildpack's web runs the start script itself, and npm start for npm's "
          "hooks",
          "[buildpacks]") {
  TempDir dir;
  auto web_of = [&](const std::string& package_json) -> std::optional<std::string> {
    write_file(dir / "package.json", package_json);
    auto released = run(
        {.argv = {fixture("../../buildpacks/nodejs/bin/release").string(), dir.path().string()}});
    REQUIRE(released);
    INFO(package_json << "\n" << released->output);
    REQUIRE(released->code == 0);
    auto info = parse_release_yaml(released->output);
    REQUIRE(info);
    for (const auto& [name, command] : info->default_process_types) {
      if (name == "web") {
        return command;
      }
    }
    return std::nullopt;
  };
  CHECK(web_of(R"({"scripts": {"start": "node server.js"}})") == "node server.js");
  // Quotes, $ and a colon reach the command as written; the ends are trimmed.
  CHECK(web_of(R"({"scripts": {"start": "  node \"my app\".js --port=$PORT # a: b "}})") ==
        R"(node "my app".js --port=$PORT # a: b)");
  // npm runs prestart and poststart; a script of many lines is not one Procfile command.
  CHECK(web_of(R"({"scripts": {"prestart": "node migrate.js", "start": "node a.js"}})") ==
        "npm start");
  CHECK(web_of(R"({"scripts": {"start": "node a.js", "poststart": "true"}})") == "npm start");
  // What npm sets for a script is there only under npm.
  CHECK(web_of(R"({"scripts": {"start": "node $npm_package_main"}})") == "npm start");
  CHECK(web_of(R"({"scripts": {"start": "node ${INIT_CWD}/a.js"}})") == "npm start");
  CHECK(web_of(R"({"scripts": {"start": "node a.js\nnode b.js"}})") == "npm start");
  CHECK(web_of(R"({"scripts": {"start": "   "}})") == "npm start");
  // No start script: nothing, or node server.js when it is there.
  CHECK(web_of(R"({"scripts": {"start": ["node", "a.js"]}})") == std::nullopt);
  CHECK(web_of(R"({"scripts": "node a.js"})") == std::nullopt);
  CHECK(web_of("not json") == std::nullopt);
  CHECK(web_of(R"({"scripts": {"start": "node a.js"}} {})") == std::nullopt);
  write_file(dir / "server.js", "");
  CHECK(web_of("{}") == "node server.js");
}

TEST_CASE("a Node.js app without scripts builds, and its web is node server.js", "[buildpacks]") {
  TempDir dir;
  write_file(dir / "app/package.json", R"({"name": "no-scripts", "version": "1.0.0"})");
  write_file(dir / "app/server.js",
             "require('http').createServer((q, s) => s.end('hello from no-scripts'))"
             ".listen(process.env.PORT, '127.0.0.1');\n");
  for (const char* pass : {"cold", "warm"}) { // the second reads package.json from the cache
    INFO(pass);
    auto built = build(dir / "app", dir / "slug.tar.zst", dir / "cache");
    INFO(built.status.output);
    REQUIRE(built.status.code == 0);
    CHECK(built.result["process_types"]["web"] == "node server.js");
  }
}

TEST_CASE("a Node.js build script gets the environment npm run build gives it, with npm "
          "started only when that environment is not on record",
          "[buildpacks]") {
  TempDir dir;
  // What the build script sees, sorted (a value's second line sorts as a line of its own):
  // the config value's newline must survive the record.
  auto package = [](const std::string& version, const std::string& extra) {
    return R"({"name": "env-dump", "version": ")" + version + R"(", "scripts": {)" + extra +
           R"("build": "mkdir -p out && env | LC_ALL=C sort > out/env.txt"},
               "config": {"greeting": "two\nlines"}, "engines": {"node": ">=18"}})";
  };
  write_file(dir / "app/package.json", package("1.0.0", ""));
  write_file(dir / "app/server.js", "");
  auto build_env = [&](const std::string& pass) {
    INFO(pass);
    auto built = build(dir / "app", dir / (pass + ".tar.zst"), dir / "cache");
    INFO(built.status.output);
    REQUIRE(built.status.code == 0);
    REQUIRE(unpack_slug(dir / (pass + ".tar.zst"), dir / pass));
    std::string env = read_text(dir / pass / "out/env.txt");
    // slipway's own, different at every build
    auto line = env.find("SOURCE_VERSION=");
    if (line != std::string::npos) {
      env.erase(line, env.find('\n', line) + 1 - line);
    }
    bool npm_started = !contains(built.status.output, "npm not started");
    return std::pair{env, npm_started};
  };
  auto [by_npm, npm_first] = build_env("first");
  CHECK(npm_first);
  CHECK(contains(by_npm, "npm_lifecycle_event=build\n"));
  CHECK(contains(by_npm, "npm_package_config_greeting=two\n"));
  CHECK(contains(by_npm, "\nlines\n"));
  CHECK(contains(by_npm, "/app/node_modules/.bin:"));
  auto [recorded, npm_second] = build_env("second");
  CHECK_FALSE(npm_second);
  CHECK(recorded == by_npm);

  // package.json changed: npm runs, and what it gives is recorded again.
  write_file(dir / "app/package.json", package("1.0.1", ""));
  auto [changed, npm_third] = build_env("third");
  CHECK(npm_third);
  CHECK(contains(changed, "npm_package_version=1.0.1\n"));
  CHECK_FALSE(build_env("fourth").second);

  // npm runs prebuild and postbuild: with them, npm always runs the build.
  write_file(dir / "app/package.json",
             package("1.0.1", R"("prebuild": "echo before > prebuild.txt", )"));
  CHECK(build_env("fifth").second);
  CHECK(build_env("sixth").second);
  CHECK(fs::exists(dir / "sixth/prebuild.txt"));

  // A record that is not what bin/compile writes is not used.
  write_file(dir / "app/package.json", package("1.0.2", ""));
  CHECK(build_env("seventh").second);
  auto record = read_text(dir / "cache/build-script.env");
  write_file(dir / "cache/build-script.env", record.substr(0, record.find('\0') + 1) + "junk");
  CHECK(build_env("eighth").second);
  CHECK_FALSE(build_env("ninth").second);

  // The app chose npm's script shell: npm runs the build with it, every time.
  write_file(dir / "app/.npmrc", "script-shell=/bin/bash\n");
  CHECK(build_env("tenth").second);
  CHECK(build_env("eleventh").second);
}

TEST_CASE("the python buildpack installs vendored wheels into /app/.venv", "[buildpacks]") {
  check_serves("python", "python app.py");
}

TEST_CASE("the python buildpack names a requirement it cannot install", "[buildpacks]") {
  TempDir dir;
  auto built = build(fixture("apps/python-missing"), dir / "slug.tar.zst", dir / "cache");
  CHECK(built.status.code == 1);
  CHECK(contains(built.status.output, "slipway-not-vendored"));
  CHECK(contains(built.status.output, " !     "));
  CHECK_FALSE(fs::exists(dir / "slug.tar.zst"));
}

TEST_CASE("the static buildpack serves the site with nginx on PORT", "[buildpacks]") {
  check_serves("static");
}

TEST_CASE("a Dokku buildpack-nginx app (.static) is served from its www/", "[buildpacks]") {
  TempDir dir;
  write_file(dir / "site/.static", "");
  write_file(dir / "site/www/index.html", "<p>hello from www</p>\n");
  write_file(dir / "site/index.html", "<p>not this one</p>\n");
  write_file(dir / "site/.buildpacks", "https://github.com/dokku/buildpack-nginx\n");
  check_serves("www", "", dir / "site");
}

TEST_CASE("the cmake buildpack configures, builds and installs into /app", "[buildpacks]") {
  check_serves("cmake", "bin/web");
}

TEST_CASE("malformed package.json and static.json fail the build and name the file",
          "[buildpacks]") {
  TempDir dir;
  write_file(dir / "node/package.json", "{\"name\": \"x\",");
  auto built = build(dir / "node", dir / "node.tar.zst", dir / "cache");
  CHECK(built.status.code == 1);
  CHECK(contains(built.status.output, " !     package.json is not valid JSON"));
  write_file(dir / "node/package.json", "{\"name\": \"x\"} {\"name\": \"y\"}");
  built = build(dir / "node", dir / "node.tar.zst", dir / "cache");
  CHECK(built.status.code == 1);
  CHECK(contains(built.status.output,
                 " !     package.json is not valid JSON: it must hold one object"));

  write_file(dir / "site/index.html", "<p>hi</p>");
  write_file(dir / "site/static.json", "{\"root\": ");
  built = build(dir / "site", dir / "site.tar.zst", dir / "cache");
  CHECK(built.status.code == 1);
  CHECK(contains(built.status.output, "static.json"));
  CHECK(contains(built.status.output, " !     "));
}
