#include <memory>

#include <catch2/catch.hpp>

#include "common/error.hpp"

namespace slipway {

namespace {

Expected<std::unique_ptr<int>> make(bool ok) {
  if (!ok) {
    return fail("no value for {}", "x");
  }
  return std::make_unique<int>(7);
}

Expected<void> check(bool ok) {
  if (!ok) {
    return usage_error("bad");
  }
  return {};
}

Expected<int> twice(bool make_ok, bool check_ok) {
  auto value = TRY(make(make_ok)); // a move-only value comes out of the Expected
  TRY(check(check_ok));
  return *value * 2;
}

} // namespace

TEST_CASE("TRY yields the value or returns the error unchanged") {
  CHECK(twice(true, true) == 14);
  auto missing = twice(false, true);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "no value for x");
  CHECK(missing.error().exit_code == 1);
  auto bad = twice(true, false);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().exit_code == 2);
}

} // namespace slipway
