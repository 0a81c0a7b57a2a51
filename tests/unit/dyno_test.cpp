#include <catch2/catch.hpp>

#include "runtime/dyno.hpp"

using namespace slipway;
using std::chrono::milliseconds;

TEST_CASE("a crashed process restarts at once, then backs off doubling to 5 minutes", "[dyno]") {
  CHECK(restart_delay(1) == milliseconds(0));
  CHECK(restart_delay(2) == milliseconds(1000));
  CHECK(restart_delay(3) == milliseconds(2000));
  CHECK(restart_delay(4) == milliseconds(4000));
  CHECK(restart_delay(10) == milliseconds(256000));
  CHECK(restart_delay(11) == std::chrono::minutes(5));
  CHECK(restart_delay(1000000) == std::chrono::minutes(5)); // no overflow
}
