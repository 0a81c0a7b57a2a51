#include <catch2/catch.hpp>

#include "ops/maintenance.hpp"
#include "ops/rights.hpp"
#include "runtime/apps.hpp"
#include "runtime/events.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;

namespace {

// Two apps, alice a collaborator on demo only; no daemon runs, so telling it does nothing.
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
  std::vector<Event> events(const std::string& app) const {
    return read_events(layout, {.app = app}).events;
  }
};

} // namespace

TEST_CASE("maintenance mode is kept in app.toml and each change is an event", "[maintenance]") {
  Fixture fixture;
  auto alice = fixture.as({.name = "alice"});
  CHECK(ops::maintenance(alice, "demo") == false);
  auto before = fixture.events("demo").size();

  CHECK(ops::set_maintenance(alice, {.app = "demo", .on = true}) == true);
  CHECK(app_info(fixture.layout, "demo")->maintenance);
  CHECK(ops::maintenance(alice, "demo") == true);
  auto events = fixture.events("demo");
  REQUIRE(events.size() == before + 1);
  CHECK(events.back().resource == "maintenance");
  CHECK(events.back().action == "enabled");
  CHECK(events.back().actor == "alice");
  CHECK(events.back().data["maintenance"] == true);
  CHECK(describe_event(events.back()).text ==
        "Maintenance mode on by alice: the router answers every request with 503");

  // Asking again changes nothing and records nothing.
  CHECK(ops::set_maintenance(alice, {.app = "demo", .on = true}) == false);
  CHECK(fixture.events("demo").size() == before + 1);

  CHECK(ops::set_maintenance(alice, {.app = "demo", .on = false}) == true);
  CHECK_FALSE(app_info(fixture.layout, "demo")->maintenance);
  events = fixture.events("demo");
  REQUIRE(events.size() == before + 2);
  CHECK(events.back().action == "disabled");
  CHECK(describe_event(events.back()).text ==
        "Maintenance mode off by alice: requests reach the app again");
  CHECK(contains(read_text(fixture.layout.log_dir("demo") / "current.log"),
                 "slipway[api]: Maintenance mode off by alice"));
}

TEST_CASE("maintenance is an app's operation: a collaborator cannot touch another app",
          "[maintenance]") {
  Fixture fixture;
  auto alice = fixture.as({.name = "alice"});
  std::string record = read_text(fixture.layout.app_file("other"));
  auto before = fixture.events("other").size();
  for (bool on : {true, false}) {
    auto refused = ops::set_maintenance(alice, {.app = "other", .on = on});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message == "key 'alice' has no access to app 'other'");
  }
  auto shown = ops::maintenance(alice, "other");
  REQUIRE_FALSE(shown);
  CHECK(shown.error().message == "key 'alice' has no access to app 'other'");
  // Nor find out whether an app exists.
  CHECK(ops::set_maintenance(alice, {.app = "nope", .on = true}).error().message ==
        "key 'alice' has no access to app 'nope'");
  CHECK_FALSE(ops::set_maintenance(alice, {.app = "../etc", .on = true}));
  CHECK(read_text(fixture.layout.app_file("other")) == record);
  CHECK(fixture.events("other").size() == before);

  // Over ssh too: the same table.
  for (const char* name : {"maintenance", "maintenance:on", "maintenance:off"}) {
    INFO(name);
    auto operation = ops::find_operation(name);
    REQUIRE(operation);
    CHECK(operation->scope == ops::Scope::app);
    CHECK(operation->remote);
  }
  auto admin = fixture.as({.name = "boss", .admin = true});
  CHECK(ops::set_maintenance(admin, {.app = "other", .on = true}) == true);
  CHECK(fixture.events("other").back().actor == "boss");
}
