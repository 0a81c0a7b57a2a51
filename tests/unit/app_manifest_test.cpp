#include <catch2/catch.hpp>

#include "compiler/app_manifest.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;

namespace {

using Names = std::vector<std::string>;

std::string app_json_error(std::string_view text) {
  auto manifest = parse_app_json(text);
  REQUIRE_FALSE(manifest);
  return manifest.error().message;
}

std::string buildpacks_file_error(std::string_view text) {
  auto list = parse_buildpacks_file(text);
  REQUIRE_FALSE(list);
  return list.error().message;
}

} // namespace

TEST_CASE("app.json buildpacks are the url of each entry, in order", "[app_manifest]") {
  auto manifest = parse_app_json(R"({
    "name": "my-app",
    "env": {"SECRET": {"generator": "secret"}},
    "buildpacks": [
      {"url": "heroku/nodejs"},
      {"url": "https://github.com/heroku/heroku-buildpack-python.git"}
    ]
  })");
  REQUIRE(manifest);
  CHECK(manifest->buildpacks ==
        Names{"heroku/nodejs", "https://github.com/heroku/heroku-buildpack-python.git"});
  CHECK(manifest->document["name"] == "my-app");
  CHECK(manifest->document["env"]["SECRET"]["generator"] == "secret");
}

TEST_CASE("every top-level key of Heroku's app.json schema is accepted", "[app_manifest]") {
  auto manifest = parse_app_json(R"({
    "name": "a", "description": "b", "keywords": ["c"], "website": "https://w",
    "repository": "https://r", "logo": "https://l", "success_url": "/",
    "scripts": {"postdeploy": "bin/setup"}, "env": {}, "formation": {"web": {"quantity": 1}},
    "image": "heroku/ruby", "addons": ["heroku-postgresql"], "buildpacks": [],
    "environments": {"test": {}}, "stack": "heroku-22"
  })");
  REQUIRE(manifest);
  CHECK(manifest->buildpacks.empty());
}

TEST_CASE("an app.json without buildpacks names none", "[app_manifest]") {
  auto manifest = parse_app_json("{}");
  REQUIRE(manifest);
  CHECK(manifest->buildpacks.empty());
  CHECK(manifest->document.is_object());
}

TEST_CASE("malformed JSON in app.json names the line and column and shows the line",
          "[app_manifest]") {
  auto message = app_json_error("{\n  \"name\": \"x\",\n  \"env\": {\"A\": }\n}");
  CHECK(contains(message, "app.json: malformed JSON at line 3, column 16:"));
  CHECK(contains(message, "  3 |   \"env\": {\"A\": }"));
  CHECK(contains(app_json_error(""), "app.json: malformed JSON at line 1, column 1"));
  CHECK(contains(app_json_error("{\"name\": }"), "malformed JSON at line 1, column 10"));
  CHECK(contains(app_json_error("{} {}"), "malformed JSON at line 1"));
  // A line of control characters is shown escaped, and a long one cut.
  CHECK(contains(app_json_error("{\"a\": \x01}"), "\\x01"));
  CHECK(app_json_error("{\"a\": " + std::string(5000, '1') + "x}").size() < 400);
}

TEST_CASE("app.json may have // and /* */ comments, as Dokku's samples do", "[app_manifest]") {
  auto manifest = parse_app_json(R"({
    // the app
    "name": "commented", /* inline */
    "formation": {"web": {"quantity": 2}}
  })");
  REQUIRE(manifest);
  CHECK(manifest->document["name"] == "commented");
  REQUIRE(manifest->formation.size() == 1);
  CHECK(manifest->formation[0].quantity == 2);
}

TEST_CASE("every problem in app.json is reported in one pass", "[app_manifest]") {
  auto message = app_json_error(R"({
    "buildpacks": "heroku/ruby",
    "env": {"1BAD": "x", "GOOD": {"required": "yes"}},
    "formation": {"web": {"quantity": -1}},
    "scripts": {"postdeploy": 3},
    "healthchecks": {"web": [{"path": "health", "attempts": 0}]}
  })");
  CHECK(contains(message, "app.json has 7 problems:\n"));
  CHECK(contains(message, "\n  'buildpacks' must be a list, got string"));
  CHECK(contains(message, "'env.1BAD': invalid config var name"));
  CHECK(contains(message, "'env.GOOD.required' must be true or false, got string"));
  CHECK(contains(message, "'formation.web.quantity' must be a whole number from 0 to 100, got -1"));
  CHECK(contains(message, "'scripts.postdeploy' must be a string, got number"));
  CHECK(contains(message, "'healthchecks.web[0].path' must be a URL path"));
  CHECK(contains(message, "'healthchecks.web[0].attempts' must be a whole number from 1 to 100"));
}

TEST_CASE("app.json env: values, required vars and generated secrets", "[app_manifest]") {
  auto manifest = parse_app_json(R"({"env": {
    "SHORT": "inline value",
    "WITH_VALUE": {"description": "d", "value": "v"},
    "OPTIONAL": {"required": false},
    "NEEDED": {"description": "an API key"},
    "SECRET_KEY_BASE": {"generator": "secret"}
  }})");
  REQUIRE(manifest);
  REQUIRE(manifest->env.size() == 5);
  auto find = [&](std::string_view name) {
    auto it = std::ranges::find(manifest->env, name, &EnvVarSpec::name);
    REQUIRE(it != manifest->env.end());
    return *it;
  };
  CHECK(find("SHORT").value == "inline value");
  CHECK(find("WITH_VALUE").value == "v");
  CHECK(find("WITH_VALUE").description == "d");
  CHECK_FALSE(find("OPTIONAL").required);
  CHECK(find("NEEDED").required);
  CHECK_FALSE(find("NEEDED").value);
  CHECK(find("SECRET_KEY_BASE").secret);
  CHECK(contains(app_json_error(R"({"env": {"A": {"generator": "uuid"}}})"),
                 "'env.A.generator' must be \"secret\", got \"uuid\""));
  CHECK(contains(app_json_error(R"({"env": {"A": {"value": 1}}})"),
                 "'env.A.value' must be a string, got number"));
  CHECK(contains(app_json_error(R"({"env": {"A": 1}})"),
                 "'env.A' must be a string or an object, got number"));
  CHECK(contains(app_json_error(R"({"env": []})"), "'env' must be an object of config vars"));
}

TEST_CASE("app.json formation and scripts", "[app_manifest]") {
  auto manifest = parse_app_json(R"({
    "formation": {"worker": {"quantity": 1, "size": "standard-1X"}, "web": {"quantity": 0}},
    "scripts": {"postdeploy": "bin/seed", "dokku": {"predeploy": "bin/assets",
                                                     "postdeploy": "bin/notify"}}
  })");
  REQUIRE(manifest);
  REQUIRE(manifest->formation.size() == 2);
  CHECK(manifest->formation[0].type == "web");
  CHECK(manifest->formation[0].quantity == 0);
  CHECK(manifest->formation[1].type == "worker");
  CHECK(manifest->formation[1].quantity == 1);
  CHECK(manifest->scripts.postdeploy == "bin/seed");
  CHECK(manifest->scripts.dokku_predeploy == "bin/assets");
  CHECK(manifest->scripts.dokku_postdeploy == "bin/notify");
  CHECK(std::ranges::any_of(manifest->notes, [](const std::string& note) {
    return contains(note, "formation sizes ignored");
  }));
  CHECK(contains(app_json_error(R"({"formation": {"web worker": {"quantity": 1}}})"),
                 "'formation.web worker': invalid process type name"));
  CHECK(contains(app_json_error(R"({"formation": {"web": 1}})"),
                 "'formation.web' must be an object such as {\"quantity\": 1}, got number"));
  CHECK(contains(app_json_error(R"({"scripts": {"dokku": "x"}})"),
                 "'scripts.dokku' must be an object, got string"));
}

TEST_CASE("an app.json that is not an object says what it is", "[app_manifest]") {
  CHECK(contains(app_json_error("[]"), "app.json: expected an object at the top level, got array"));
  CHECK(contains(app_json_error("\"app\""), "got string"));
  CHECK(contains(app_json_error("null"), "got null"));
  CHECK(contains(app_json_error("42"), "got number"));
}

TEST_CASE("unknown keys and keys with no meaning here are notes, never failures",
          "[app_manifest]") {
  auto manifest = parse_app_json(R"({
    "name": "x", "buildpack": [{"url": "heroku/ruby"}],
    "addons": ["heroku-postgresql", {"plan": "heroku-redis:mini"}],
    "image": "heroku/ruby", "success_url": "/welcome",
    "scripts": {"predestroy": "x"}, "healthchecks": {"worker": []}
  })");
  REQUIRE(manifest);
  using Notes = std::vector<std::string>;
  CHECK(manifest->notes ==
        Notes{"addons: heroku-postgresql, heroku-redis:mini ignored: slipway does not provision "
              "add-ons",
              "unknown key 'buildpack' ignored",
              "healthchecks.worker ignored: only web processes are checked",
              "image ignored: slipway builds with buildpacks",
              "scripts.predestroy ignored: slipway runs postdeploy, pr-predestroy and "
              "dokku.predeploy/postdeploy",
              "success_url ignored: slipway has no setup page"});
}

TEST_CASE("app.json buildpacks that are not a list say what they are", "[app_manifest]") {
  CHECK(contains(app_json_error(R"({"buildpacks": "heroku/ruby"})"),
                 "app.json: 'buildpacks' must be a list, got string"));
  CHECK(contains(app_json_error(R"({"buildpacks": {"url": "heroku/ruby"}})"),
                 "'buildpacks' must be a list, got object"));
  CHECK(
      contains(app_json_error(R"({"buildpacks": null})"), "'buildpacks' must be a list, got null"));
}

TEST_CASE("an app.json buildpack entry without a url string names its index", "[app_manifest]") {
  for (const char* entry : {R"({"name": "ruby"})", R"("heroku/ruby")", R"({"url": 3})",
                            R"({"url": ""})", R"({"url": null})", "[]"}) {
    INFO(entry);
    auto message =
        app_json_error(fmt::format(R"({{"buildpacks": [{{"url": "heroku/nodejs"}}, {}]}})", entry));
    CHECK(contains(message, "app.json: 'buildpacks[1]' must be an object with a 'url' string"));
  }
}

TEST_CASE("a .buildpacks file lists one buildpack per line", "[app_manifest]") {
  auto list = parse_buildpacks_file("https://github.com/heroku/heroku-buildpack-nodejs\n"
                                    "python\n"
                                    "https://example.com/bp.tgz#v1.2");
  REQUIRE(list);
  CHECK(*list == Names{"https://github.com/heroku/heroku-buildpack-nodejs", "python",
                       "https://example.com/bp.tgz#v1.2"});
}

TEST_CASE("a .buildpacks file may have comments, blank lines and CRLF", "[app_manifest]") {
  auto list = parse_buildpacks_file("# first the assets\r\n"
                                    "\r\n"
                                    "   nodejs   \r\n"
                                    "\t# then the server\n"
                                    "\n"
                                    "\tpython\t\n");
  REQUIRE(list);
  CHECK(*list == Names{"nodejs", "python"});
  auto empty = parse_buildpacks_file("# none yet\n\n");
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("whitespace inside a .buildpacks line is an error that names the line",
          "[app_manifest]") {
  auto message = buildpacks_file_error("nodejs\n# ok\nheroku python\n");
  CHECK(contains(message, ".buildpacks line 3"));
  CHECK(contains(message, "'heroku python' is not a buildpack URL or name"));
  CHECK(contains(buildpacks_file_error("nodejs\tpython"), ".buildpacks line 1"));
  CHECK(contains(buildpacks_file_error("nodejs # the assets\n"), "'nodejs # the assets'"));
}

TEST_CASE("an app names no buildpacks without .buildpacks or app.json", "[app_manifest]") {
  test::TempDir app;
  test::write_file(app / "index.js", "");
  auto buildpacks = app_buildpacks(app.path());
  REQUIRE(buildpacks);
  CHECK_FALSE(buildpacks->has_value());
}

TEST_CASE("an app's .buildpacks names its buildpacks", "[app_manifest]") {
  test::TempDir app;
  test::write_file(app / ".buildpacks", "# two\nnodejs\npython\n");
  auto buildpacks = app_buildpacks(app.path());
  REQUIRE(buildpacks);
  REQUIRE(buildpacks->has_value());
  CHECK(**buildpacks == Names{"nodejs", "python"});
}

TEST_CASE("an app's app.json names its buildpacks", "[app_manifest]") {
  test::TempDir app;
  test::write_file(app / "app.json", R"({"buildpacks": [{"url": "static"}]})");
  auto buildpacks = app_buildpacks(app.path());
  REQUIRE(buildpacks);
  REQUIRE(buildpacks->has_value());
  CHECK(**buildpacks == Names{"static"});
}

TEST_CASE("an app.json without buildpacks lets .buildpacks decide", "[app_manifest]") {
  test::TempDir app;
  test::write_file(app / "app.json", R"({"name": "x", "buildpacks": []})");
  auto none = app_buildpacks(app.path());
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  test::write_file(app / ".buildpacks", "python\n");
  auto from_file = app_buildpacks(app.path());
  REQUIRE(from_file);
  REQUIRE(from_file->has_value());
  CHECK(**from_file == Names{"python"});
}

TEST_CASE("naming buildpacks in both .buildpacks and app.json is an error", "[app_manifest]") {
  test::TempDir app;
  test::write_file(app / ".buildpacks", "nodejs\n");
  test::write_file(app / "app.json", R"({"buildpacks": [{"url": "python"}]})");
  auto buildpacks = app_buildpacks(app.path());
  REQUIRE_FALSE(buildpacks);
  CHECK(contains(buildpacks.error().message, ".buildpacks"));
  CHECK(contains(buildpacks.error().message, "app.json"));
  CHECK(contains(buildpacks.error().message, "both"));
}

TEST_CASE("a .buildpacks that names no buildpack is an error", "[app_manifest]") {
  test::TempDir app;
  test::write_file(app / ".buildpacks", "# nothing\n\n");
  auto buildpacks = app_buildpacks(app.path());
  REQUIRE_FALSE(buildpacks);
  CHECK(contains(buildpacks.error().message, ".buildpacks names no buildpack"));
}

TEST_CASE("a malformed .buildpacks or app.json in the app is reported", "[app_manifest]") {
  test::TempDir bad_file;
  test::write_file(bad_file / ".buildpacks", "nodejs python\n");
  auto from_file = app_buildpacks(bad_file.path());
  REQUIRE_FALSE(from_file);
  CHECK(contains(from_file.error().message, ".buildpacks line 1"));

  test::TempDir bad_json;
  test::write_file(bad_json / "app.json", "{\"buildpacks\": [");
  auto from_json = app_buildpacks(bad_json.path());
  REQUIRE_FALSE(from_json);
  CHECK(contains(from_json.error().message, "app.json: malformed JSON"));

  test::TempDir unknown;
  test::write_file(unknown / ".buildpacks", "nodejs\n");
  test::write_file(unknown / "app.json", R"({"env": {"A": 1}})");
  auto both = app_buildpacks(unknown.path());
  REQUIRE_FALSE(both);
  CHECK(contains(both.error().message, "'env.A' must be a string or an object"));
}

TEST_CASE("app.json declares the web health check the way Dokku reads it", "[app_manifest]") {
  auto none = parse_app_json("{}");
  REQUIRE(none);
  CHECK_FALSE(none->health_checks.startup.declared);
  CHECK(none->health_checks.startup.path == "/");
  auto declared = parse_app_json(
      R"({"healthchecks": {"web": [{"type": "startup", "name": "up", "path": "/health", "content": "ok"}]}})");
  REQUIRE(declared);
  CHECK(declared->health_checks.startup.declared);
  CHECK(declared->health_checks.startup.path == "/health");
  CHECK(declared->health_checks.startup.content == "ok");
  auto untyped = parse_app_json(R"({"healthchecks": {"web": [{"path": "/up"}]}})");
  REQUIRE(untyped);
  CHECK(untyped->health_checks.startup.path == "/up");
}

TEST_CASE("app.json health checks take Dokku's timing keys", "[app_manifest]") {
  auto manifest = parse_app_json(R"({"healthchecks": {"web": [{"type": "startup",
    "path": "/ready", "attempts": 3, "wait": 2, "timeout": 4, "initialDelay": 1, "uptime": 5}]}})");
  REQUIRE(manifest);
  const HealthCheck& check = manifest->health_checks.startup;
  CHECK(check.declared);
  CHECK(check.attempts == 3);
  CHECK(check.wait == std::chrono::seconds(2));
  CHECK(check.timeout == std::chrono::seconds(4));
  CHECK(check.initial_delay == std::chrono::seconds(1));
  CHECK(check.uptime == std::chrono::seconds(5));
  // An uptime-only check keeps the default HTTP check.
  auto uptime = parse_app_json(R"({"healthchecks": {"web": [{"uptime": 3}]}})");
  REQUIRE(uptime);
  CHECK_FALSE(uptime->health_checks.startup.declared);
  CHECK(uptime->health_checks.startup.uptime == std::chrono::seconds(3));
}

TEST_CASE("a malformed health check is refused with what is wrong", "[app_manifest]") {
  CHECK(contains(app_json_error(R"({"healthchecks": []})"), "'healthchecks' must be an object"));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": {}}})"),
                 "'healthchecks.web' must be a list of checks, got object"));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [{"path": "/a"}, {"path": "/b"}]}})"),
                 "the web process has one startup check"));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": ["/health"]}})"),
                 "'healthchecks.web[0]' must be an object"));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [{"path": "/h", "attempts": "3"}]}})"),
                 "'healthchecks.web[0].attempts' must be a whole number from 1 to 100, got \"3\""));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [{"path": "/h", "timeout": 0}]}})"),
                 "'healthchecks.web[0].timeout' must be a whole number from 1 to 3600, got 0"));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [{"path": "/h", "port": 80}]}})"),
                 "'healthchecks.web[0].port' is not supported"));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [{"path": 5}]}})"),
                 "'healthchecks.web[0].path' must be a string"));
  CHECK(contains(
      app_json_error(R"({"healthchecks": {"web": [{"type": "readiness", "path": "/h"}]}})"),
      "must be \"startup\" or \"liveness\", got \"readiness\""));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [{"path": "health"}]}})"),
                 "must be a URL path such as \"/health\", got 'health'"));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [{"path": "/a b"}]}})"),
                 "must be a URL path"));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [{"path": "/a\r\nHost: x"}]}})"),
                 "must be a URL path"));
}

TEST_CASE("app.json liveness checks: Dokku's keys, one per web process", "[app_manifest]") {
  auto manifest = parse_app_json(R"({"healthchecks": {"web": [
    {"type": "startup", "path": "/ready"},
    {"type": "liveness", "name": "alive", "path": "/health", "content": "ok", "attempts": 2,
     "wait": 3, "timeout": 1, "initialDelay": 4}]}})");
  REQUIRE(manifest);
  CHECK(manifest->health_checks.startup.path == "/ready");
  REQUIRE(manifest->health_checks.liveness);
  const HealthCheck& liveness = *manifest->health_checks.liveness;
  CHECK(liveness.declared);
  CHECK(liveness.name == "alive");
  CHECK(liveness.path == "/health");
  CHECK(liveness.content == "ok");
  CHECK(liveness.attempts == 2);
  CHECK(liveness.wait == std::chrono::seconds(3));
  CHECK(liveness.timeout == std::chrono::seconds(1));
  CHECK(liveness.initial_delay == std::chrono::seconds(4));
  // Alone, it leaves the default startup check; without keys, the daemon's defaults apply.
  auto alone = parse_app_json(R"({"healthchecks": {"web": [{"type": "liveness"}]}})");
  REQUIRE(alone);
  CHECK_FALSE(alone->health_checks.startup.declared);
  REQUIRE(alone->health_checks.liveness);
  CHECK_FALSE(alone->health_checks.liveness->declared);
  CHECK(alone->health_checks.liveness->path == "/");
  CHECK_FALSE(alone->health_checks.liveness->wait);
  CHECK_FALSE(alone->health_checks.liveness->attempts);
  auto none = parse_app_json(R"({"healthchecks": {"web": [{"path": "/up"}]}})");
  REQUIRE(none);
  CHECK_FALSE(none->health_checks.liveness);
}

TEST_CASE("a malformed liveness check is refused with what is wrong", "[app_manifest]") {
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [
                   {"type": "liveness", "path": "/a"}, {"type": "liveness", "path": "/b"}]}})"),
                 "'healthchecks.web[1]': the web process has one liveness check; merge them"));
  CHECK(
      contains(app_json_error(R"({"healthchecks": {"web": [{"type": "liveness", "uptime": 5}]}})"),
               "'healthchecks.web[0].uptime' applies to startup checks only"));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [{"type": "liveness", "wait": 0}]}})"),
                 "'healthchecks.web[0].wait' must be at least 1 for a liveness check"));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [{"type": "liveness", "wait": -1}]}})"),
                 "'healthchecks.web[0].wait' must be a whole number from 0 to 3600, got -1"));
  CHECK(contains(
      app_json_error(R"({"healthchecks": {"web": [{"type": "liveness", "attempts": 0}]}})"),
      "'healthchecks.web[0].attempts' must be a whole number from 1 to 100, got 0"));
  CHECK(contains(
      app_json_error(R"({"healthchecks": {"web": [{"type": "liveness", "timeout": "5"}]}})"),
      "'healthchecks.web[0].timeout' must be a whole number from 1 to 3600, got \"5\""));
  CHECK(contains(
      app_json_error(R"({"healthchecks": {"web": [{"type": "liveness", "path": "health"}]}})"),
      "'healthchecks.web[0].path' must be a URL path such as \"/health\", got 'health'"));
  CHECK(
      contains(app_json_error(R"({"healthchecks": {"web": [{"type": "liveness", "port": 5000}]}})"),
               "'healthchecks.web[0].port' is not supported"));
  CHECK(contains(app_json_error(R"({"healthchecks": {"web": [{"type": 5}]}})"),
                 "'healthchecks.web[0].type' must be \"startup\" or \"liveness\", got 5"));
  // Every problem of every check, in one pass.
  auto both = app_json_error(R"({"healthchecks": {"web": [
    {"path": "up"}, {"type": "liveness", "wait": 0, "uptime": 1}]}})");
  CHECK(contains(both, "app.json has 3 problems"));
}

TEST_CASE("an old release's health check is read whatever else its app.json says",
          "[app_manifest]") {
  test::TempDir app;
  test::write_file(app / "app.json", R"({"env": {"A": 1},
    "healthchecks": {"web": [{"path": "/up", "attempts": 2},
                             {"type": "liveness", "path": "/live"}]}})");
  auto checks = web_health_checks(app.path());
  REQUIRE(checks);
  CHECK(checks->startup.path == "/up");
  CHECK(checks->startup.attempts == 2);
  REQUIRE(checks->liveness);
  CHECK(checks->liveness->path == "/live");
  test::write_file(app / "app.json", R"({"healthchecks": {"web": [{"path": "up"}]}})");
  auto bad = web_health_checks(app.path());
  REQUIRE_FALSE(bad);
  CHECK(contains(bad.error().message, "'healthchecks.web[0].path' must be a URL path"));
  test::write_file(app / "app.json",
                   R"({"healthchecks": {"web": [{"type": "liveness", "wait": 0}]}})");
  auto no_pause = web_health_checks(app.path());
  REQUIRE_FALSE(no_pause);
  CHECK(contains(no_pause.error().message, "must be at least 1 for a liveness check"));
  test::TempDir none;
  auto absent = web_health_checks(none.path());
  REQUIRE(absent);
  CHECK_FALSE(absent->startup.declared);
  CHECK_FALSE(absent->liveness);
}
