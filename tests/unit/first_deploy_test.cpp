#include <catch2/catch.hpp>

#include "runtime/first_deploy.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;

namespace {

AppJson manifest(std::string_view text) {
  auto parsed = parse_app_json(text);
  REQUIRE(parsed);
  return *parsed;
}

Expected<std::string> fixed_secret() {
  return std::string("s3cr3t");
}

} // namespace

TEST_CASE("a first deploy takes app.json's values and secrets, never over a set var",
          "[first_deploy]") {
  auto app = manifest(R"({"env": {
    "GREETING": {"value": "hello"}, "SHORT": "x", "SECRET_KEY_BASE": {"generator": "secret"},
    "ALREADY": {"value": "from app.json"}, "OPTIONAL": {"required": false}}})");
  auto setup = first_deploy_config("demo", app, {{"ALREADY", "set by hand"}}, fixed_secret);
  REQUIRE(setup);
  CHECK(setup->config == ConfigVars{{"ALREADY", "set by hand"},
                                    {"GREETING", "hello"},
                                    {"SECRET_KEY_BASE", "s3cr3t"},
                                    {"SHORT", "x"}});
  CHECK(setup->set == std::vector<std::string>{"GREETING", "SHORT"});
  CHECK(setup->generated == std::vector<std::string>{"SECRET_KEY_BASE"});
}

TEST_CASE("a first deploy missing required vars names every one of them", "[first_deploy]") {
  auto app = manifest(R"({"env": {"API_KEY": {"description": "x"}, "DATABASE_URL": {},
                                  "SET": {}, "OPTIONAL": {"required": false}}})");
  auto setup = first_deploy_config("demo", app, {{"SET", "1"}}, fixed_secret);
  REQUIRE_FALSE(setup);
  CHECK(setup.error().message ==
        "app.json requires config vars API_KEY, DATABASE_URL, with no value given; set them "
        "first: slipway config:set -a demo API_KEY=... DATABASE_URL=...");
  auto one = first_deploy_config("demo", manifest(R"({"env": {"TOKEN": {}}})"), {}, fixed_secret);
  REQUIRE_FALSE(one);
  CHECK(contains(one.error().message, "requires config var TOKEN, with no value given; set it"));
}

TEST_CASE("generated secrets are 64 hex digits, different each time", "[first_deploy]") {
  auto a = generate_secret();
  auto b = generate_secret();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->size() == 64);
  CHECK(a->find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(*a != *b);
}
