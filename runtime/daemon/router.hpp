// The router: nginx's configuration for every app, as the daemon writes it under
// ROOT/run/nginx/. One server per app answering APP.DOMAIN and its own domains on
// [server].http_address:http_port (a wildcard domain as nginx's `*.example.com`, which a
// name another app added exactly overrides), proxying to an upstream of its healthy web
// processes, a plain 503 when it has none, or a 503 maintenance page while its maintenance
// mode is on; and dashboard.DOMAIN, proxied to the Platform API. A control server on a unix socket
// reports the configuration's generation, so the daemon knows when a reload has taken effect.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"

namespace slipway::daemon {

struct Route {
  std::string app;
  std::vector<std::string> hosts; // APP.DOMAIN first, then its domains
  // Its web processes that passed their health check: "127.0.0.1:PORT" for the daemon's
  // own, a node's address and a task's published port for a cluster's.
  std::vector<std::string> upstreams;
  bool maintenance = false; // answer every request with the maintenance page

  bool operator==(const Route&) const = default;
};

struct RouterFiles {
  std::filesystem::path prefix; // ROOT/run/nginx
  std::filesystem::path config() const { return prefix / "nginx.conf"; }
  std::filesystem::path pid() const { return prefix / "nginx.pid"; }
  std::filesystem::path error_log() const { return prefix / "error.log"; }
  std::filesystem::path control_socket() const { return prefix / "control.sock"; }
};

// The HTML page every request to an app in maintenance mode gets, with status 503.
extern const std::string_view k_maintenance_page;

// `dashboard`: where the Platform API listens (ROOT/run/api.address, "HOST:PORT"), which nginx
// then serves at dashboard.DOMAIN (the dashboard and the API, with the event stream unbuffered);
// empty: no such server.
std::string nginx_config(const Config& config, const RouterFiles& files,
                         const std::vector<Route>& routes, long generation,
                         const std::string& dashboard = "");

} // namespace slipway::daemon
