// The API's HTTP server: which port it takes. Loopback only.
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "api/http_server.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::api;

namespace {

Response hello(const Request&, const std::string&) {
  return {.content_type = "text/plain", .body = "hello"};
}

// Whether a listening socket can be bound to 127.0.0.1:port now.
bool free_now(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return bound;
}

} // namespace

TEST_CASE("a server asked for any port takes none the router or the apps are to bind, and "
          "lets go of those it was offered",
          "[http_server]") {
  std::set<int> offered;
  // The first five ports the kernel offers are reserved: it is asked again, each held.
  HttpServer server({.port = 0,
                     .reserved =
                         [&](int port) {
                           offered.insert(port);
                           return offered.size() <= 5;
                         }},
                    hello);
  auto port = server.start();
  REQUIRE(port);
  CHECK(offered.size() == 6);
  CHECK(offered.contains(*port));
  CHECK(test::http_get(*port).body == "hello");
  for (int other : offered) {
    if (other != *port) {
      INFO(other);
      CHECK(free_now(other));
    }
  }
  server.stop();
}

TEST_CASE("a server given its port takes it even when reserved, and one that cannot bind says "
          "where",
          "[http_server]") {
  int chosen = test::free_port();
  HttpServer server({.port = chosen, .reserved = [](int) { return true; }}, hello);
  auto port = server.start();
  REQUIRE(port);
  CHECK(*port == chosen);
  HttpServer second({.port = chosen}, hello);
  auto refused = second.start();
  REQUIRE_FALSE(refused);
  CHECK(test::contains(refused.error().message,
                       "cannot listen on 127.0.0.1:" + std::to_string(chosen)));
  HttpServer hopeless({.port = 0, .reserved = [](int) { return true; }}, hello);
  auto none = hopeless.start();
  REQUIRE_FALSE(none);
  CHECK(test::contains(none.error().message, "only reserved ports"));
  server.stop();
}
