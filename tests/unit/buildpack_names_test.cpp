// Heroku's buildpack names and URLs, Dokku's .env and the message when nothing detects.
#include <catch2/catch.hpp>

#include "compiler/app_manifest.hpp"
#include "compiler/buildpack.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using test::TempDir;
using test::write_file;

TEST_CASE("Heroku's registry names and official URLs have a built-in that stands in",
          "[buildpack_names]") {
  for (const auto* ref :
       {"heroku/nodejs", "https://github.com/heroku/heroku-buildpack-nodejs",
        "https://github.com/heroku/heroku-buildpack-nodejs.git",
        "https://github.com/heroku/heroku-buildpack-nodejs.git#v250",
        "https://github.com/heroku/heroku-buildpack-nodejs/",
        "http://www.github.com/Heroku/Heroku-Buildpack-NodeJS",
        "git@github.com:heroku/heroku-buildpack-nodejs.git",
        "ssh://git@github.com/heroku/heroku-buildpack-nodejs.git",
        "https://buildpack-registry.s3.amazonaws.com/buildpacks/heroku/nodejs.tgz"}) {
    INFO(ref);
    CHECK(builtin_equivalent(ref) == "nodejs");
  }
  CHECK(builtin_equivalent("heroku/python") == "python");
  CHECK(builtin_equivalent("heroku/go") == "go");
  CHECK(builtin_equivalent("https://github.com/heroku/heroku-buildpack-ruby#v300") == "ruby");
  CHECK(builtin_equivalent("heroku-community/static") == "static");
  CHECK(builtin_equivalent("https://github.com/dokku/buildpack-nginx") == "static");

  // Not the same repository, however close.
  for (const auto* ref : {"heroku/php", "https://github.com/heroku/heroku-buildpack-nodejs-extra",
                          "https://github.com/someone/heroku-buildpack-nodejs",
                          "https://gitlab.com/heroku/heroku-buildpack-nodejs", "nodejs",
                          "/srv/heroku-buildpack-nodejs", ""}) {
    INFO(ref);
    CHECK_FALSE(builtin_equivalent(ref));
  }
}

TEST_CASE("registry names map to Heroku's repositories for a server that clones them",
          "[buildpack_names]") {
  CHECK(registry_git_url("heroku/php") == "https://github.com/heroku/heroku-buildpack-php");
  CHECK(registry_git_url("heroku-community/apt") ==
        "https://github.com/heroku/heroku-buildpack-apt");
  CHECK_FALSE(registry_git_url("someone/thing"));
  CHECK_FALSE(registry_git_url("php"));
  CHECK_FALSE(registry_git_url("heroku/../x"));
  CHECK_FALSE(registry_git_url("https://github.com/heroku/heroku-buildpack-php"));
}

TEST_CASE("resolving a name: the built-in stands in, or a clear error names the built-ins",
          "[buildpack_names]") {
  TempDir dir;
  auto go = resolve_buildpack("heroku/go", dir / "clones");
  REQUIRE(go);
  CHECK(go->name == "go");
  CHECK(go->stands_in);
  auto plain = resolve_buildpack("go", dir / "clones");
  REQUIRE(plain);
  CHECK_FALSE(plain->stands_in);

  auto php = resolve_buildpack("heroku/php", dir / "clones");
  REQUIRE_FALSE(php);
  CHECK(contains(php.error().message, "buildpack 'heroku/php' has no built-in here: the "
                                      "built-in buildpacks are cmake, go, nodejs, procfile, "
                                      "python, ruby, static"));
  auto unknown = resolve_buildpack("cobol", dir / "clones");
  REQUIRE_FALSE(unknown);
  CHECK(contains(unknown.error().message, "unknown buildpack 'cobol': the built-in buildpacks "
                                          "are cmake, go"));
  for (const auto* bad : {"../python", "Python", "heroku/../../etc", "a b"}) {
    INFO(bad);
    CHECK_FALSE(resolve_buildpack(bad, dir / "clones"));
  }
}

TEST_CASE("Dokku's .env: BUILDPACK_URL is read, the rest is the app's", "[buildpack_names]") {
  CHECK(parse_dotenv_buildpack("export BUILDPACK_URL=https://x/bp.git\n") == "https://x/bp.git");
  CHECK(parse_dotenv_buildpack("FOO=1\nBUILDPACK_URL=\"heroku/go\"\r\n# c\n") == "heroku/go");
  CHECK(parse_dotenv_buildpack("  BUILDPACK_URL = 'heroku/ruby'  \n") == "heroku/ruby");
  CHECK(parse_dotenv_buildpack("not even = a \"dotenv line\n") == std::nullopt);
  CHECK(parse_dotenv_buildpack("BUILDPACK_URLS=x\n") == std::nullopt);
  CHECK(parse_dotenv_buildpack("") == std::nullopt);

  auto error = [](std::string_view text) {
    auto parsed = parse_dotenv_buildpack(text);
    REQUIRE_FALSE(parsed);
    return parsed.error().message;
  };
  CHECK(error("BUILDPACK_URL=\n") == ".env line 1: BUILDPACK_URL '' is not one buildpack URL "
                                     "or name");
  CHECK(contains(error("A=1\nBUILDPACK_URL=a b\n"), ".env line 2: BUILDPACK_URL 'a b'"));
  CHECK(contains(error("BUILDPACK_URL=$(rm -rf /)\n"), "is not one buildpack URL or name"));
  CHECK(error("BUILDPACK_URL=a\nexport BUILDPACK_URL=b\n") ==
        ".env line 2: BUILDPACK_URL is set twice");
}

TEST_CASE("an app names its buildpacks in one place only", "[buildpack_names]") {
  TempDir dir;
  write_file(dir / ".env", "BUILDPACK_URL=heroku/go\n");
  auto named = app_buildpacks(dir.path());
  REQUIRE(named);
  CHECK(*named == std::vector<std::string>{"heroku/go"});
  write_file(dir / ".buildpacks", "heroku/python\n");
  auto both = app_buildpacks(dir.path());
  REQUIRE_FALSE(both);
  CHECK(both.error().message ==
        "the app names buildpacks in both .buildpacks and .env (BUILDPACK_URL); keep one");
}

TEST_CASE("when nothing detects, the message names the files found and their languages",
          "[buildpack_names]") {
  TempDir dir;
  CHECK(contains(undetected_app(dir.path()),
                 "no buildpack applies to this app: it has no Procfile and none of "
                 "package.json, requirements.txt"));
  write_file(dir / "Procfile", "web: x\n");
  write_file(dir / "Gemfile", "");
  write_file(dir / "pom.xml", "");
  CHECK(undetected_app(dir.path()) ==
        "no buildpack applies to this app: found Procfile, Gemfile (Ruby), pom.xml (Java); none "
        "of the buildpacks tried builds Ruby or Java: name one by its git URL in app.json "
        "\"buildpacks\" or .buildpacks (or --buildpack URL)");
}
