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
  // the config value's newline must survive the record. With a file fail-now, it fails.
  auto package = [](const std::string& version, const std::string& extra) {
    return R"({"name": "env-dump", "version": ")" + version + R"(", "scripts": {)" + extra +
           R"("build": "test ! -f fail-now && mkdir -p out && env | LC_ALL=C sort > out/env.txt"},
               "config": {"greeting": "two\nlines"}, "engines": {"node": ">=18"}})";
  };
  write_file(dir / "app/package.json", package("1.0.0", ""));
  write_file(dir / "app/server.js", "");
  struct Seen {
    std::string env;
    bool npm_started = false;
  };
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
    return Seen{env, !contains(built.status.output, "npm not started")};
  };
  auto by_npm = build_env("first");
  CHECK(by_npm.npm_started);
  CHECK(contains(by_npm.env, "npm_lifecycle_event=build\n"));
  CHECK(contains(by_npm.env, "npm_package_config_greeting=two\n"));
  CHECK(contains(by_npm.env, "\nlines\n"));
  CHECK(contains(by_npm.env, "/app/node_modules/.bin:"));
  // What records it does not reach the script.
  CHECK_FALSE(contains(by_npm.env, "SLIPWAY_SCRIPT_ENV"));
  CHECK_FALSE(contains(by_npm.env, "npm_config_script_shell"));
  auto recorded = build_env("second");
  CHECK_FALSE(recorded.npm_started);
  CHECK(recorded.env == by_npm.env);

  // The build script fails without npm as with it.
  write_file(dir / "app/fail-now", "");
  auto failed = build(dir / "app", dir / "failed.tar.zst", dir / "cache");
  CHECK(failed.status.code != 0);
  CHECK(contains(failed.status.output, "npm not started"));
  CHECK(contains(failed.status.output, "the build script failed"));
  fs::remove(dir / "app/fail-now");

  // package.json changed: npm runs, and what it gives is recorded again.
  write_file(dir / "app/package.json", package("1.0.1", ""));
  auto changed = build_env("third");
  CHECK(changed.npm_started);
  CHECK(contains(changed.env, "npm_package_version=1.0.1\n"));
  auto replayed = build_env("fourth");
  CHECK_FALSE(replayed.npm_started);

  // npm runs prebuild and postbuild: with them, npm runs the build every time, with no script
  // shell of slipway's, and gives the script what the record gave it.
  write_file(dir / "app/package.json",
             package("1.0.1", R"("prebuild": "echo before > prebuild.txt", )"));
  auto plain_npm = build_env("fifth");
  CHECK(plain_npm.npm_started);
  CHECK(build_env("sixth").npm_started);
  CHECK(fs::exists(dir / "sixth/prebuild.txt"));
  CHECK(plain_npm.env == replayed.env);

  // A record that is not as bin/compile writes it is not used.
  write_file(dir / "app/package.json", package("1.0.2", ""));
  CHECK(build_env("seventh").npm_started);
  const std::string record = read_text(dir / "cache/build-script.env");
  const std::string key = record.substr(0, record.find('\0') + 1);
  for (const std::string& bad :
       {std::string("junk"), std::string("+NO_VALUE"), std::string("-=x"), std::string("^a")}) {
    INFO(bad);
    write_file(dir / "cache/build-script.env",
               key + (bad == "^a" ? record.substr(key.size()) : "") + bad + std::string(1, '\0'));
    CHECK(build_env("bad").npm_started);
    fs::remove_all(dir / "bad");
  }
  CHECK_FALSE(build_env("eighth").npm_started);

  // An npmrc setting is an input: npm runs again, then the new record is used.
  write_file(dir / "app/.npmrc", "fund=false\n");
  CHECK(build_env("ninth").npm_started);
  CHECK_FALSE(build_env("tenth").npm_started);
  // The app chose npm's script shell, or config files of its own: npm runs every time.
  for (const char* npmrc : {"script-shell=/bin/bash\n", "globalconfig=/app/npmrc\n"}) {
    write_file(dir / "app/.npmrc", npmrc);
    CHECK(build_env("eleventh").npm_started);
    fs::remove_all(dir / "eleventh");
    CHECK(build_env("eleventh").npm_started);
    fs::remove_all(dir / "eleventh");
  }
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
