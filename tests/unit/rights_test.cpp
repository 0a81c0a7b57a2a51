#include <catch2/catch.hpp>

#include "ops/rights.hpp"
#include "runtime/apps.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;

namespace {

struct Fixture {
  TempDir dir;
  Layout layout{dir / "root"};
  Fixture() {
    REQUIRE(init_root(layout, {}));
    REQUIRE(create_app(layout, "demo"));
    REQUIRE(create_app(layout, "other"));
    auto info = app_info(layout, "demo");
    info->access = {"alice"};
    REQUIRE(save_app_info(layout, *info));
  }
  ops::Context as(ops::Actor actor) const {
    return {.layout = layout, .config = {}, .actor = std::move(actor)};
  }
};

std::string refusal(const Expected<void>& result) {
  return result ? "" : result.error().message;
}

} // namespace

TEST_CASE("rights: one check from the actor, the operation and the app", "[rights]") {
  Fixture fixture;
  auto local = fixture.as({.name = "root", .admin = true, .local = true});
  auto admin = fixture.as({.name = "boss", .admin = true});
  auto alice = fixture.as({.name = "alice"});

  CHECK(ops::authorize(local, "deploy", "demo"));
  CHECK(refusal(ops::authorize(admin, "deploy", "demo")) ==
        "'deploy' is for the server's local user only; key 'boss' cannot run it");
  CHECK(ops::authorize(admin, "apps:destroy", "other"));
  CHECK(refusal(ops::authorize(alice, "apps:destroy", "demo")) ==
        "'apps:destroy' needs an admin key; key 'alice' is a collaborator");

  CHECK(ops::authorize(alice, "config:set", "demo"));
  CHECK(refusal(ops::authorize(alice, "config:set", "other")) ==
        "key 'alice' has no access to app 'other'");
  // A collaborator cannot tell an app it may not use from one that does not exist.
  CHECK(refusal(ops::authorize(alice, "config:set", "nope")) ==
        "key 'alice' has no access to app 'nope'");
  CHECK(refusal(ops::authorize(admin, "config:set", "nope")) == "app 'nope' does not exist");
  // The name is validated before any path is made of it.
  CHECK_FALSE(ops::authorize(admin, "releases", "../etc"));
  CHECK(refusal(ops::authorize(admin, "releases", "")) == "'releases' needs an app");

  // Listings: anyone, then what is listed depends on the actor.
  CHECK(ops::authorize(alice, "events"));
  CHECK(ops::may_access(alice, "demo"));
  CHECK_FALSE(ops::may_access(alice, "other"));
  CHECK(ops::may_access(admin, "other"));
  CHECK_FALSE(ops::authorize(admin, "no-such-operation"));
}

TEST_CASE("rights: every remote operation has a scope, and the server's own stay local",
          "[rights]") {
  for (const auto& operation : ops::operations()) {
    INFO(operation.name);
    CHECK(ops::find_operation(operation.name));
  }
  CHECK_FALSE(ops::find_operation("deploy")->remote);
  CHECK(ops::find_operation("keys:add")->scope == ops::Scope::admin);
  CHECK(ops::find_operation("run")->scope == ops::Scope::app);
  CHECK_FALSE(ops::find_operation("init"));
  CHECK_FALSE(ops::find_operation("daemon"));
}
