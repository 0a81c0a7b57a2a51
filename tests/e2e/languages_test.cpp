// Apps written for Heroku deploy unchanged: the Go and Ruby built-ins over a real git push,
// Heroku's buildpack names and URLs, Dokku's .env, and an app no buildpack builds.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/server.hpp"

using namespace slipway;
using namespace slipway::test;
using nlohmann::json;

TEST_CASE("a Go app with vendored modules deploys with a git push and runs its one binary",
          "[languages]") {
  Server server;
  server.create("goapp", fixture("apps/go"));
  auto pushed = server.push("goapp");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  CHECK(contains(pushed.output, "-----> Go app detected"));
  CHECK(contains(pushed.output, "with the modules vendored in vendor/ (offline)"));
  CHECK(contains(pushed.output, "-----> Built into bin/: hello"));
  CHECK(contains(pushed.output, "Default types for buildpack -> web"));
  CHECK(server.serves("goapp", "hello from go (vendored greeting v1.0.0)"));

  // The second build compiles nothing new: Go's build cache is kept in the app's cache.
  server.write("goapp", "README", "a change that is not Go\n");
  server.commit("goapp", "docs");
  auto again = server.push("goapp");
  INFO(again.output);
  REQUIRE(again.ok());
  CHECK(server.serves("goapp", "hello from go"));
}

TEST_CASE("a Ruby Rack app deploys with the gems the server has and runs under rackup",
          "[languages]") {
  Server server;
  server.create("rubyapp", fixture("apps/ruby"));
  auto pushed = server.push("rubyapp");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  CHECK(contains(pushed.output, "-----> Ruby app detected"));
  CHECK(contains(pushed.output, "Using the gems installed on this server"));
  CHECK(contains(pushed.output, "Default types for buildpack -> web, console, rake"));
  CHECK(server.serves("rubyapp", "hello from ruby"));
  auto run = server.slipway({"run", "-a", "rubyapp", "--", "ruby", "-e", "puts ENV['RACK_ENV']"});
  CHECK(contains(run.output, "production"));
}

TEST_CASE("Heroku's buildpack names and URLs, and Dokku's .env, stand for the built-ins",
          "[languages]") {
  Server server;
  server.create("named", fixture("apps/ruby")); // the Ruby fixture builds in a second
  std::string url = "https://github.com/heroku/heroku-buildpack-ruby.git#v270";

  SECTION("an official URL in .buildpacks") {
    server.write("named", ".buildpacks", url + "\n");
    server.commit("named", "go by URL");
    auto pushed = server.push("named");
    INFO(pushed.output);
    REQUIRE(pushed.ok());
    CHECK(contains(pushed.output, "-----> Using the built-in ruby buildpack for " + url));
    CHECK(server.serves("named", "hello from ruby"));
  }
  SECTION("a registry name in app.json") {
    server.write("named", "app.json", R"({"buildpacks": [{"url": "heroku/ruby"}]})");
    server.commit("named", "go by name");
    auto pushed = server.push("named");
    INFO(pushed.output);
    REQUIRE(pushed.ok());
    CHECK(contains(pushed.output, "-----> Using the built-in ruby buildpack for heroku/ruby"));
  }
  SECTION("BUILDPACK_URL in Dokku's .env") {
    server.write("named", ".env", "export BUILDPACK_URL='" + url + "'\nOTHER=1\n");
    server.commit("named", "go by .env");
    auto pushed = server.push("named");
    INFO(pushed.output);
    REQUIRE(pushed.ok());
    CHECK(contains(pushed.output, "-----> Using the built-in ruby buildpack for " + url));
  }
  SECTION("a registry name with no built-in fails at once, naming the built-ins") {
    server.write("named", ".buildpacks", "heroku/php\n");
    server.commit("named", "php");
    auto pushed = server.push("named");
    INFO(pushed.output);
    CHECK_FALSE(pushed.ok());
    CHECK(contains(pushed.output, "buildpack 'heroku/php' has no built-in here: the built-in "
                                  "buildpacks are cmake, go, nodejs, procfile, python, ruby, "
                                  "static; name its git URL or set [buildpacks] official = "
                                  "\"clone\" in slipway.toml"));
    CHECK(server.releases("named").empty());
  }
  SECTION("a server that clones the official buildpacks clones their URLs") {
    write_file(server.root / "slipway.toml",
               read_text(server.root / "slipway.toml") + "\n[buildpacks]\nofficial = \"clone\"\n");
    server.write("named", ".buildpacks", "heroku/ruby\n");
    server.commit("named", "clone go");
    auto pushed = server.push("named");
    INFO(pushed.output);
    CHECK_FALSE(pushed.ok()); // this machine cannot reach github.com
    CHECK(contains(pushed.output, "https://github.com/heroku/heroku-buildpack-ruby"));
    CHECK(contains(pushed.output, "the built-in buildpacks are cmake, go, nodejs"));
  }
}

TEST_CASE("an app that no buildpack builds fails at detection, naming what was found",
          "[languages]") {
  Server server;
  server.create("php");
  server.write("php", "Procfile", "web: php -S 0.0.0.0:$PORT\n");
  server.write("php", "composer.json", "{}\n");
  server.write("php", "index.php", "<?php echo 'hi';\n");
  server.commit("php", "php app");
  auto pushed = server.push("php");
  INFO(pushed.output);
  CHECK_FALSE(pushed.ok());
  CHECK(contains(pushed.output,
                 "no buildpack applies to this app: found Procfile, composer.json (PHP), "
                 "index.php (PHP); none of the buildpacks tried builds PHP: name one by its git "
                 "URL in app.json \"buildpacks\" or .buildpacks"));
  CHECK_FALSE(contains(pushed.output, "status 127"));
  CHECK(server.releases("php").empty());
}
