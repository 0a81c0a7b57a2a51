#include <catch2/catch.hpp>

#include "runtime/daemon/router.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::daemon;
using namespace slipway::test;

TEST_CASE("each app gets a server for its hosts and an upstream of its web processes", "[router]") {
  Config config;
  config.server.http_address = "127.0.0.1";
  config.server.http_port = 18080;
  RouterFiles files{.prefix = "/srv/slipway/run/nginx"};
  std::string text = nginx_config(config, files,
                                  {{.app = "demo",
                                    .hosts = {"demo.localhost", "www.example.com"},
                                    .upstreams = {"127.0.0.1:20001", "127.0.0.1:20002"}},
                                   {.app = "idle", .hosts = {"idle.localhost"}, .upstreams = {}}},
                                  7);
  CHECK(contains(text, "pid /srv/slipway/run/nginx/nginx.pid;"));
  CHECK(contains(text, "listen unix:/srv/slipway/run/nginx/control.sock;"));
  CHECK(contains(text, "return 200 \"7\";"));
  CHECK(contains(text, "listen 127.0.0.1:18080 default_server;"));
  CHECK(contains(text, "upstream slipway-demo {\n    server 127.0.0.1:20001 max_fails=0;\n"
                       "    server 127.0.0.1:20002 max_fails=0;\n  }"));
  CHECK(contains(text, "server_name demo.localhost www.example.com;"));
  CHECK(contains(text, "proxy_pass http://slipway-demo;"));
  CHECK_FALSE(contains(text, "upstream slipway-idle"));
  CHECK(contains(text, "return 503 \"idle has no web processes running\\n\";"));
}

TEST_CASE("the dashboard is served at dashboard.DOMAIN from the Platform API's address, and only "
          "from an address that is one",
          "[router]") {
  Config config;
  config.server.http_address = "127.0.0.1";
  config.server.http_port = 18080;
  config.server.domain = "example.com";
  RouterFiles files{.prefix = "/srv/slipway/run/nginx"};
  std::string text = nginx_config(config, files, {}, 1, "127.0.0.1:5000");
  CHECK(contains(text, "server_name dashboard.example.com;"));
  CHECK(contains(text, "proxy_pass http://127.0.0.1:5000;"));
  CHECK(contains(text, "proxy_buffering off;"));
  CHECK_FALSE(contains(nginx_config(config, files, {}, 1, ""), "dashboard."));
  CHECK_FALSE(contains(nginx_config(config, files, {}, 1, "127.0.0.1:5000; evil"), "dashboard."));
  CHECK_FALSE(contains(nginx_config(config, files, {}, 1, "x.com:80"), "dashboard."));
}

TEST_CASE("the generated configuration is one nginx accepts", "[router]") {
  TempDir dir;
  Config config;
  config.server.http_port = free_port();
  config.server.http_address = "127.0.0.1";
  RouterFiles files{.prefix = dir.path()};
  for (const char* sub : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    std::filesystem::create_directories(dir / sub);
  }
  write_file(
      files.config(),
      nginx_config(config, files,
                   {{.app = "demo", .hosts = {"demo.localhost"}, .upstreams = {"127.0.0.1:20001"}},
                    {.app = "idle-app", .hosts = {"idle-app.localhost"}, .upstreams = {}}},
                   1, "127.0.0.1:5000"));
  auto checked = run_program({"/usr/sbin/nginx", "-t", "-p", dir.path().string(), "-c",
                              files.config().string(), "-e", files.error_log().string()});
  INFO(checked.output);
  CHECK(checked.ok());
}

TEST_CASE("no host name reaches nginx twice, nor one under the server's domain that is not "
          "the app's own",
          "[router]") {
  Config config;
  RouterFiles files{.prefix = "/srv/slipway/run/nginx"};
  std::string text =
      nginx_config(config, files,
                   {{.app = "evil",
                     .hosts = {"evil.localhost", "zeta.localhost", "www.example.com", "localhost"},
                     .upstreams = {"127.0.0.1:20001"}},
                    {.app = "zeta",
                     .hosts = {"zeta.localhost", "www.example.com"},
                     .upstreams = {"127.0.0.1:20002"}}},
                   3);
  CHECK(contains(text, "server_name evil.localhost www.example.com;"));
  CHECK(contains(text, "server_name zeta.localhost;"));
}

TEST_CASE("a wildcard domain is nginx's wildcard server name, unless it would answer names "
          "under the server's domain",
          "[router]") {
  Config config;
  RouterFiles files{.prefix = "/srv/slipway/run/nginx"};
  std::string text = nginx_config(
      config, files,
      {{.app = "alpha",
        .hosts = {"alpha.localhost", "*.example.com", "*.localhost", "*.zeta.localhost"},
        .upstreams = {"127.0.0.1:20001"}},
       {.app = "beta",
        .hosts = {"beta.localhost", "api.example.com", "*.example.com"},
        .upstreams = {"127.0.0.1:20002"}}},
      3);
  CHECK(contains(text, "server_name alpha.localhost *.example.com;"));
  CHECK(contains(text, "server_name beta.localhost api.example.com;"));
}

TEST_CASE("an app in maintenance mode answers every request with the 503 page, and nothing "
          "else",
          "[router]") {
  Config config;
  RouterFiles files{.prefix = "/srv/slipway/run/nginx"};
  std::string text =
      nginx_config(config, files,
                   {{.app = "demo",
                     .hosts = {"demo.localhost", "www.example.com"},
                     .upstreams = {"127.0.0.1:20001"},
                     .maintenance = true},
                    {.app = "live", .hosts = {"live.localhost"}, .upstreams = {"127.0.0.1:20002"}}},
                   4);
  CHECK(contains(text, "server_name demo.localhost www.example.com;\n    location / {\n"
                       "      default_type text/html;\n"));
  CHECK(contains(text, "      return 503 '<!DOCTYPE html>"));
  CHECK(contains(text, "<h1>Down for maintenance</h1>"));
  CHECK(contains(text, "add_header Retry-After 60 always;"));
  // Its processes run on, but nginx does not send them requests.
  CHECK_FALSE(contains(text, "upstream slipway-demo"));
  CHECK_FALSE(contains(text, "proxy_pass http://slipway-demo;"));
  CHECK(contains(text, "proxy_pass http://slipway-live;"));
  // A single-quoted nginx string: no quote to end it early, no escape, no variable.
  CHECK(k_maintenance_page.find_first_of("'\\$") == std::string_view::npos);
}

TEST_CASE("nginx accepts wildcard server names and the maintenance page", "[router]") {
  TempDir dir;
  Config config;
  config.server.http_port = free_port();
  config.server.http_address = "127.0.0.1";
  RouterFiles files{.prefix = dir.path()};
  for (const char* sub : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    std::filesystem::create_directories(dir / sub);
  }
  write_file(files.config(), nginx_config(config, files,
                                          {{.app = "alpha",
                                            .hosts = {"alpha.localhost", "*.example.com"},
                                            .upstreams = {"127.0.0.1:20001"}},
                                           {.app = "beta",
                                            .hosts = {"beta.localhost", "api.example.com"},
                                            .upstreams = {"127.0.0.1:20002"},
                                            .maintenance = true}},
                                          1));
  auto checked = run_program({"/usr/sbin/nginx", "-t", "-p", dir.path().string(), "-c",
                              files.config().string(), "-e", files.error_log().string()});
  INFO(checked.output);
  CHECK(checked.ok());
  CHECK_FALSE(contains(checked.output, "warn"));
}
