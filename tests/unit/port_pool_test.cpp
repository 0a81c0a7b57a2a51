#include <set>

#include <catch2/catch.hpp>

#include "runtime/daemon/port_pool.hpp"

using namespace slipway;
using namespace slipway::daemon;

TEST_CASE("ports are handed out round robin, skipping those in use here or on the host",
          "[port_pool]") {
  std::set<int> busy_on_host = {20002};
  PortPool pool(20000, 20004, [&](int port) { return !busy_on_host.contains(port); });
  CHECK(*pool.allocate() == 20000);
  CHECK(*pool.allocate() == 20001);
  CHECK(*pool.allocate() == 20003); // 20002 is taken by something else
  pool.release(20000);
  // A port given back is the last to be reused.
  CHECK(*pool.allocate() == 20004);
  CHECK(*pool.allocate() == 20000);
  CHECK(pool.in_use(20000));
  auto none = pool.allocate();
  REQUIRE_FALSE(none);
  CHECK(none.error().message == "no free port left in [runtime].port_range 20000-20004");
  busy_on_host.clear();
  CHECK(*pool.allocate() == 20002);
}

TEST_CASE("a single-port range works", "[port_pool]") {
  PortPool pool(8000, 8000, [](int) { return true; });
  CHECK(*pool.allocate() == 8000);
  CHECK_FALSE(pool.allocate());
  pool.release(8000);
  CHECK(*pool.allocate() == 8000);
}
