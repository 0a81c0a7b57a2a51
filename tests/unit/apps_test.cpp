#include <catch2/catch.hpp>

#include "common/files.hpp"
#include "runtime/apps.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using test::TempDir;

TEST_CASE("domain names are lowercase DNS names of two labels or more", "[apps]") {
  for (const char* good : {"www.example.com", "a.b", "x-1.example.org", "demo.localhost"}) {
    INFO(good);
    CHECK(validate_domain(good));
  }
  for (const char* bad :
       {"", "localhost", "Example.com", "-a.example.com", "a-.example.com", "a..b", ".a.b", "a.b.",
        "a b.com", "a_b.com", "*.example.com", "a.b;rm", "xn--\xc3\xa9.com", "a/b.com"}) {
    INFO(bad);
    auto valid = validate_domain(bad);
    REQUIRE_FALSE(valid);
    CHECK(valid.error().exit_code == 2);
    CHECK(contains(valid.error().message, "invalid domain"));
  }
  CHECK_FALSE(validate_domain(std::string(64, 'a') + ".com"));
  CHECK_FALSE(validate_domain(std::string(250, 'a').replace(100, 1, ".") + ".com"));
}

TEST_CASE("app.toml keeps the formation and domains", "[apps]") {
  TempDir dir;
  Layout layout(dir.path());
  REQUIRE(create_app(layout, "demo"));
  auto info = app_info(layout, "demo");
  REQUIRE(info);
  CHECK(info->formation.empty());
  CHECK(default_scale("web") == 1);
  CHECK(default_scale("worker") == 0);
  info->formation = {{"web", 2}, {"worker", 0}};
  info->domains = {"www.example.com", "example.org"};
  REQUIRE(save_app_info(layout, *info));
  auto again = app_info(layout, "demo");
  REQUIRE(again);
  CHECK(again->formation == info->formation);
  CHECK(again->domains == info->domains);
  CHECK(again->created_at == info->created_at);
}

TEST_CASE("a malformed app.toml names what is wrong", "[apps]") {
  TempDir dir;
  Layout layout(dir.path());
  REQUIRE(create_app(layout, "demo"));
  std::string created = "created_at = 2026-11-26T07:00:00Z\n";
  auto error_for = [&](const std::string& rest) {
    REQUIRE(write_file_atomic(layout.app_file("demo"), created + rest));
    auto info = app_info(layout, "demo");
    REQUIRE_FALSE(info);
    return info.error().message;
  };
  CHECK(contains(error_for("formation = 3\n"), "'formation' must be a table"));
  CHECK(contains(error_for("[formation]\nweb = -1\n"),
                 "formation.web must be a count from 0 to 100"));
  CHECK(contains(error_for("[formation]\nweb = 101\n"), "formation.web"));
  CHECK(contains(error_for("[formation]\nweb = \"2\"\n"), "formation.web"));
  CHECK(contains(error_for("[formation]\n\"we b\" = 1\n"), "must be a count"));
  CHECK(contains(error_for("domains = \"x.com\"\n"), "'domains' must be a list"));
  CHECK(contains(error_for("domains = [\"../etc\"]\n"), "invalid host name"));
  CHECK(contains(error_for("domains = [1]\n"), "invalid host name"));
  CHECK(contains(error_for("colour = \"red\"\n"), "unknown key 'colour'"));
}

TEST_CASE("each app gets a uid of its own from the range, kept for its life", "[apps]") {
  TempDir dir;
  Layout layout(dir.path());
  REQUIRE(init_root(layout, {}));
  REQUIRE(create_app(layout, "one"));
  REQUIRE(create_app(layout, "two"));
  Config config;
  auto one = app_identity(layout, config, "one");
  auto two = app_identity(layout, config, "two");
  REQUIRE(one);
  REQUIRE(two);
  CHECK(one->uid == one->gid);
  CHECK(one->uid != two->uid);
  CHECK(static_cast<int>(one->uid) > config.runtime.uid_min);
  CHECK(build_identity(config).uid == static_cast<uid_t>(config.runtime.uid_min));
  CHECK(app_identity(layout, config, "one")->uid == one->uid);
  // The range used up: one, two and three hold 200001-200003.
  REQUIRE(create_app(layout, "three"));
  config.runtime.uid_max = config.runtime.uid_min + 3;
  std::filesystem::create_directories(layout.app_dir("four"));
  auto full = app_identity(layout, config, "four");
  REQUIRE_FALSE(full);
  CHECK(contains(full.error().message, "no uid left for 'four'"));
}

TEST_CASE("names under the server's domain belong to the app of that name", "[apps]") {
  TempDir dir;
  Layout layout(dir.path());
  REQUIRE(init_root(layout, {}));
  REQUIRE(create_app(layout, "evil"));
  Config config;
  auto zeta = check_domain_claim(layout, config, "evil", "zeta.localhost");
  REQUIRE_FALSE(zeta);
  CHECK(contains(zeta.error().message, "belongs to the app named 'zeta'"));
  CHECK_FALSE(check_domain_claim(layout, config, "evil", "localhost"));
  CHECK_FALSE(check_domain_claim(layout, config, "evil", "a.b.localhost"));
  CHECK(contains(check_domain_claim(layout, config, "evil", "evil.localhost").error().message,
                 "already served by this app"));
  CHECK(check_domain_claim(layout, config, "evil", "www.example.com"));
  CHECK(host_owner(layout, config, "zeta.localhost") == "zeta");
  CHECK_FALSE(host_owner(layout, config, "www.example.com"));
}
