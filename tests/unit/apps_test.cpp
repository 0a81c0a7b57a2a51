#include <catch2/catch.hpp>

#include "common/files.hpp"
#include "runtime/apps.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using test::read_text;
using test::TempDir;
using test::write_file;

TEST_CASE("domain names are lowercase DNS names of two labels or more", "[apps]") {
  for (const char* good : {"www.example.com", "a.b", "x-1.example.org", "demo.localhost"}) {
    INFO(good);
    CHECK(validate_domain(good));
  }
  for (const char* bad :
       {"", "localhost", "Example.com", "-a.example.com", "a-.example.com", "a..b", ".a.b", "a.b.",
        "a b.com", "a_b.com", "a.b;rm", "xn--\xc3\xa9.com", "a/b.com"}) {
    INFO(bad);
    auto valid = validate_domain(bad);
    REQUIRE_FALSE(valid);
    CHECK(valid.error().exit_code == 2);
    CHECK(contains(valid.error().message, "invalid domain"));
  }
  CHECK_FALSE(validate_domain(std::string(64, 'a') + ".com"));
  CHECK_FALSE(validate_domain(std::string(250, 'a').replace(100, 1, ".") + ".com"));
}

namespace {

// A name of `size` characters: labels of 50 letters, then ".com".
std::string name_of_size(std::size_t size) {
  std::string name;
  while (name.size() + 4 < size) {
    name += name.empty() ? "" : ".";
    name += std::string(std::min<std::size_t>(50, size - 4 - name.size()), 'a');
  }
  return name + ".com";
}

} // namespace

TEST_CASE("domain names are kept lowercase and without a trailing dot, at most 253 characters",
          "[apps]") {
  CHECK(canonical_domain("Example.COM") == "example.com");
  CHECK(canonical_domain("WWW.Example.com.") == "www.example.com");
  CHECK(canonical_domain("*.Example.com") == "*.example.com");
  CHECK(canonical_domain("a.b..") == "a.b."); // one dot dropped: the rest is still invalid
  CHECK_FALSE(validate_domain(canonical_domain("a.b..")));
  CHECK(canonical_domain(".") == "");
  CHECK_FALSE(validate_domain(canonical_domain(".")));
  // Only ASCII is lowercased: anything else stays invalid.
  CHECK_FALSE(validate_domain(canonical_domain("\xc3\x89xample.com")));
  // The error names what was typed.
  auto typed = validate_domain(canonical_domain("Bad_Host.COM"), "Bad_Host.COM");
  REQUIRE_FALSE(typed);
  CHECK(contains(typed.error().message, "invalid domain 'Bad_Host.COM'"));

  REQUIRE(name_of_size(253).size() == 253);
  CHECK(validate_domain(name_of_size(253)));
  auto long_name = validate_domain(name_of_size(254));
  REQUIRE_FALSE(long_name);
  CHECK(contains(long_name.error().message, "1 to 253 characters"));
  // The absolute form of a 253-character name is that name.
  CHECK(validate_domain(canonical_domain(name_of_size(253) + ".")));
  CHECK_FALSE(validate_domain("*." + name_of_size(252)));
  CHECK(validate_domain("*." + name_of_size(251)));
}

TEST_CASE("a wildcard domain is one leading '*.' label and two labels or more after it", "[apps]") {
  for (const char* good : {"*.example.com", "*.a.b.example.org", "*.x-1.io"}) {
    INFO(good);
    CHECK(validate_domain(good));
    CHECK(is_wildcard_domain(good));
  }
  for (const char* bad : {"*.*.com", "a.*.com", "*", "*example.com", "**.example.com", "www.*",
                          "www.example.*", "*-a.example.com", "x*.example.com"}) {
    INFO(bad);
    auto valid = validate_domain(bad);
    REQUIRE_FALSE(valid);
    CHECK(valid.error().exit_code == 2);
    CHECK(contains(valid.error().message, "a wildcard is one leading '*.' label, as in "
                                          "*.example.com"));
  }
  for (const char* bad : {"*.com", "*.localhost"}) {
    INFO(bad);
    auto valid = validate_domain(bad);
    REQUIRE_FALSE(valid);
    CHECK(contains(valid.error().message, "a wildcard needs two labels or more after '*.'"));
  }
  for (const char* bad : {"*.", "*.-a.com", "*.Example.com", "*.a..com", "*.example.com."}) {
    INFO(bad);
    CHECK_FALSE(validate_domain(bad));
  }
  CHECK_FALSE(is_wildcard_domain("www.example.com"));
}

TEST_CASE("a wildcard matches the names under its base, as nginx does", "[apps]") {
  CHECK(domain_matches("www.example.com", "www.example.com"));
  CHECK_FALSE(domain_matches("www.example.com", "api.example.com"));
  CHECK(domain_matches("*.example.com", "www.example.com"));
  CHECK(domain_matches("*.example.com", "a.b.example.com"));
  CHECK_FALSE(domain_matches("*.example.com", "example.com"));
  CHECK_FALSE(domain_matches("*.example.com", "notexample.com"));
  CHECK_FALSE(domain_matches("*.example.com", "www.example.org"));
  CHECK_FALSE(domain_matches("", "www.example.com"));

  // What would answer the server's domain or a name under it.
  CHECK(reaches_domain("localhost", "localhost"));
  CHECK(reaches_domain("zeta.localhost", "localhost"));
  CHECK_FALSE(reaches_domain("www.example.com", "localhost"));
  CHECK(reaches_domain("*.localhost", "localhost"));
  CHECK(reaches_domain("*.zeta.localhost", "localhost"));
  CHECK(reaches_domain("*.example.com", "apps.example.com"));
  CHECK(reaches_domain("*.apps.example.com", "apps.example.com"));
  CHECK(reaches_domain("*.zeta.apps.example.com", "apps.example.com"));
  CHECK_FALSE(reaches_domain("*.other.example.com", "apps.example.com"));
  CHECK_FALSE(reaches_domain("*.xapps.example.com", "apps.example.com"));
  CHECK_FALSE(reaches_domain("example.com", "apps.example.com"));
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
  CHECK_FALSE(again->maintenance);
  CHECK_FALSE(contains(read_text(layout.app_file("demo")), "maintenance"));

  // A wildcard domain and maintenance mode, kept as `maintenance = true`.
  again->domains.push_back("*.example.net");
  again->maintenance = true;
  REQUIRE(save_app_info(layout, *again));
  CHECK(contains(read_text(layout.app_file("demo")), "maintenance = true"));
  auto third = app_info(layout, "demo");
  REQUIRE(third);
  CHECK(third->maintenance);
  CHECK(third->domains.back() == "*.example.net");
  third->maintenance = false;
  REQUIRE(save_app_info(layout, *third));
  CHECK_FALSE(app_info(layout, "demo")->maintenance);
  // Written by hand as false, it reads as off.
  write_file(layout.app_file("demo"), "created_at = 2026-11-26T07:00:00Z\nmaintenance = false\n");
  CHECK_FALSE(app_info(layout, "demo")->maintenance);
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
  CHECK(contains(error_for("maintenance = \"on\"\n"), "'maintenance' must be true or false"));
  CHECK(contains(error_for("maintenance = 1\n"), "'maintenance' must be true or false"));
  CHECK(contains(error_for("domains = [\"WWW.example.com\"]\n"), "invalid host name"));
  CHECK(contains(error_for("domains = [\"a.*.example.com\"]\n"), "invalid host name"));
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
  // In any case.
  CHECK(contains(check_domain_claim(layout, config, "evil", "ZETA.Localhost").error().message,
                 "belongs to the app named 'zeta'"));
  CHECK(host_owner(layout, config, "Zeta.LOCALHOST") == "zeta");
  CHECK(host_owner(layout, config, "zeta.localhost.") == "zeta");

  // A wildcard that would answer names under the server's domain, zeta's among them.
  for (const char* wildcard : {"*.localhost", "*.zeta.localhost", "*.LOCALHOST"}) {
    INFO(wildcard);
    auto claim = check_domain_claim(layout, config, "evil", wildcard);
    REQUIRE_FALSE(claim);
    CHECK(contains(claim.error().message, "would answer names under the server's domain "
                                          "'localhost'"));
  }
  config.server.domain = "apps.example.com";
  CHECK_FALSE(check_domain_claim(layout, config, "evil", "*.example.com"));
  CHECK_FALSE(check_domain_claim(layout, config, "evil", "*.apps.example.com"));
  CHECK(check_domain_claim(layout, config, "evil", "*.other.example.com"));
  CHECK(check_domain_claim(layout, config, "evil", "example.com"));
}

TEST_CASE("two apps never claim the same name or wildcard, but the more specific name wins",
          "[apps]") {
  TempDir dir;
  Layout layout(dir.path());
  REQUIRE(init_root(layout, {}));
  Config config;
  for (const char* app : {"alpha", "beta", "gamma"}) {
    REQUIRE(create_app(layout, app));
  }
  auto add = [&](const std::string& app, const std::string& host) {
    auto info = app_info(layout, app);
    REQUIRE(info);
    info->domains.push_back(host);
    REQUIRE(save_app_info(layout, *info));
  };
  add("alpha", "*.example.com");
  add("beta", "api.example.com");
  add("gamma", "*.eu.example.com");

  // nginx's order: the exact name, then the longest wildcard.
  CHECK(host_owner(layout, config, "api.example.com") == "beta");
  CHECK(host_owner(layout, config, "API.Example.com") == "beta");
  CHECK(host_owner(layout, config, "www.example.com") == "alpha");
  CHECK(host_owner(layout, config, "a.b.example.com") == "alpha");
  CHECK(host_owner(layout, config, "shop.eu.example.com") == "gamma");
  CHECK(host_owner(layout, config, "eu.example.com") == "alpha");
  CHECK_FALSE(host_owner(layout, config, "example.com"));

  auto same = check_domain_claim(layout, config, "beta", "*.example.com");
  REQUIRE_FALSE(same);
  CHECK(contains(same.error().message, "'*.example.com' is already served by app 'alpha'"));
  CHECK(contains(check_domain_claim(layout, config, "alpha", "*.Example.COM").error().message,
                 "already served by this app"));
  CHECK(contains(check_domain_claim(layout, config, "alpha", "API.example.com.").error().message,
                 "'api.example.com' is already served by app 'beta'"));
  // Under another app's wildcard, an exact name or a narrower wildcard is free to claim.
  CHECK(check_domain_claim(layout, config, "beta", "www.example.com"));
  CHECK(check_domain_claim(layout, config, "beta", "*.us.example.com"));
  // And a wildcard above another app's names.
  CHECK(check_domain_claim(layout, config, "gamma", "*.api.example.com"));
  CHECK(check_domain_claim(layout, config, "gamma", "example.com"));
}
