// Domains through the real nginx: names in any case, wildcards, and which app a request
// reaches when a wildcard and a more specific name belong to different apps.
#include <catch2/catch.hpp>

#include "tests/support/server.hpp"

using namespace slipway;
using namespace slipway::test;

TEST_CASE("a wildcard domain routes the names under it to its app, and a more specific name "
          "to the app that added it",
          "[domains]") {
  Server server;
  server.create("alpha");
  server.create("beta");
  REQUIRE(server.push("alpha").ok());
  REQUIRE(server.push("beta").ok());

  // Kept lowercase, without the trailing dot, and said so.
  auto wildcard = server.slipway({"domains:add", "-a", "alpha", "*.Example.COM"});
  REQUIRE(wildcard.ok());
  CHECK(contains(wildcard.output, "Adding *.example.com to alpha... done"));
  auto exact = server.slipway({"domains:add", "-a", "beta", "API.Example.com."});
  REQUIRE(exact.ok());
  CHECK(contains(exact.output, "Adding api.example.com to beta... done"));
  CHECK(contains(read_text(server.app_dir("beta") / "app.toml"), "'api.example.com'"));
  CHECK(contains(server.slipway({"domains", "-a", "alpha"}).output, "*.example.com"));

  // nginx: the exact name before the wildcard, and a Host in any case.
  CHECK(server.host_serves("www.example.com", "hello from alpha"));
  CHECK(server.host_serves("a.b.example.com", "hello from alpha"));
  CHECK(server.host_serves("api.example.com", "hello from beta"));
  CHECK(server.host_serves("API.EXAMPLE.COM", "hello from beta"));
  CHECK(server.host_serves("WWW.Example.Com", "hello from alpha"));
  CHECK(http_request(server.http_port, "example.com").status == 404);

  // Claims: one app per name or wildcard, in any case.
  auto taken = server.slipway({"domains:add", "-a", "beta", "*.EXAMPLE.com"});
  CHECK_FALSE(taken.ok());
  CHECK(contains(taken.output, "'*.example.com' is already served by app 'alpha'"));
  auto named = server.slipway({"domains:add", "-a", "alpha", "Api.Example.Com"});
  CHECK_FALSE(named.ok());
  CHECK(contains(named.output, "'api.example.com' is already served by app 'beta'"));
  CHECK(server.slipway({"domains:add", "-a", "alpha", "WWW.example.com"}).ok());

  // Removed in any case: api.example.com falls back to the wildcard.
  auto removed = server.slipway({"domains:remove", "-a", "beta", "Api.EXAMPLE.com."});
  REQUIRE(removed.ok());
  CHECK(contains(removed.output, "Removing api.example.com from beta... done"));
  CHECK(server.host_serves("api.example.com", "hello from alpha"));
  REQUIRE(server.slipway({"domains:remove", "-a", "alpha", "*.example.com"}).ok());
  CHECK(server.host_serves("www.example.com", "hello from alpha")); // added by name too
  CHECK(http_request(server.http_port, "api.example.com").status == 404);
}

TEST_CASE("a wildcard never takes names under the server's domain, and malformed names are "
          "refused",
          "[domains][isolation]") {
  Server server;
  server.create("evil");
  server.create("zeta");
  REQUIRE(server.push("evil").ok());
  REQUIRE(server.push("zeta").ok());

  // *.localhost is no wildcard slipway takes at all (one label after '*.').
  CHECK_FALSE(server.slipway({"domains:add", "-a", "evil", "*.localhost"}).ok());
  for (const char* hostile : {"*.zeta.localhost", "*.ZETA.localhost", "*.evil.localhost"}) {
    INFO(hostile);
    auto claim = server.slipway({"domains:add", "-a", "evil", hostile});
    CHECK_FALSE(claim.ok());
    CHECK(contains(claim.output, "would answer names under the server's domain 'localhost'"));
  }
  std::string long_name = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                          std::string(63, 'c') + "." + std::string(58, 'd') + ".com";
  REQUIRE(long_name.size() == 254);
  for (const std::string& malformed :
       {std::string("*.*.com"), std::string("a.*.com"), std::string("*"), std::string("*.com"),
        std::string("www.*"), std::string("Bad_Host"), long_name}) {
    INFO(malformed);
    auto claim = server.slipway({"domains:add", "-a", "evil", malformed});
    CHECK(claim.code == 2);
    CHECK(contains(claim.output, "invalid domain '" + malformed + "'"));
  }
  CHECK(contains(server.slipway({"domains:add", "-a", "evil", "*.*.com"}).output,
                 "a wildcard is one leading '*.' label, as in *.example.com"));
  CHECK(server.slipway({"domains", "-a", "evil"}).output == "evil.localhost\n");

  // A wildcard over the server's domain that got into app.toml some other way never
  // reaches nginx: names under it stay the apps' of those names, or nobody's.
  std::string record = read_text(server.app_dir("evil") / "app.toml");
  write_file(server.app_dir("evil") / "app.toml", record + "domains = ['*.zeta.localhost']\n");
  REQUIRE(server.slipway({"domains:add", "-a", "evil", "*.example.org"}).ok()); // a reload
  CHECK(server.host_serves("www.example.org", "hello from evil"));
  CHECK(server.serves("zeta", "hello from zeta"));
  CHECK(http_request(server.http_port, "www.zeta.localhost").status == 404);
  CHECK(http_request(server.http_port, "a.b.zeta.localhost").status == 404);
}
