#include "runtime/daemon/router.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "runtime/apps.hpp"

namespace slipway::daemon {

// Written into nginx.conf as a single-quoted string, so it holds no ' and no backslash, and
// no '$' (nginx would read a variable there): router_test checks.
const std::string_view k_maintenance_page =
    R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Down for maintenance</title>
<style>body{font-family:sans-serif;color:#333;max-width:36em;margin:18vh auto;padding:0 1em}h1{font-size:1.6em}</style>
</head>
<body>
<h1>Down for maintenance</h1>
<p>This application is being worked on and will be back shortly. Please try again in a few minutes.</p>
</body>
</html>
)";

std::string nginx_config(const Config& config, const RouterFiles& files,
                         const std::vector<Route>& routes, long generation,
                         const std::string& dashboard) {
  const std::string prefix = files.prefix.string();
  const std::string listen =
      fmt::format("{}:{}", config.server.http_address, config.server.http_port);
  std::string out = fmt::format(
      R"(# Written by slipway daemon: every reload replaces it.
daemon off;
master_process on;
worker_processes auto;
worker_shutdown_timeout {grace}s;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;

events {{
  worker_connections 1024;
}}

http {{
  access_log off;
  client_body_temp_path {prefix}/client_body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  server_tokens off;
  server_names_hash_bucket_size 128;
  client_max_body_size 100m;

  proxy_http_version 1.1;
  proxy_set_header Host $host;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_set_header X-Forwarded-Port $server_port;
  proxy_set_header X-Request-Id $request_id;
  proxy_set_header Upgrade $http_upgrade;
  proxy_set_header Connection $slipway_connection;
  proxy_connect_timeout 5s;
  proxy_read_timeout 60s;
  map $http_upgrade $slipway_connection {{
    default upgrade;
    '' '';
  }}

  server {{
    listen unix:{prefix}/control.sock;
    location = /generation {{
      default_type text/plain;
      return 200 "{generation}";
    }}
  }}

  server {{
    listen {listen} default_server;
    server_name _;
    location / {{
      default_type text/plain;
      return 404 "no app is served at this host name\n";
    }}
  }}
)",
      fmt::arg("prefix", prefix), fmt::arg("listen", listen), fmt::arg("generation", generation),
      fmt::arg("grace",
               std::max<long>(1, static_cast<long>(config.runtime.stop_grace.count() / 1000))));
  bool dashboard_ok =
      !dashboard.empty() && dashboard.size() < 64 && std::ranges::all_of(dashboard, [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '[' ||
               c == ']';
      });
  if (dashboard_ok && !config.server.domain.empty()) {
    // The app called `dashboard` cannot be made (runtime/app_name.hpp), so nothing else claims
    // this name. Server-sent events pass unbuffered, and may stay open for long.
    out +=
        fmt::format("\n  server {{\n    listen {};\n    server_name dashboard.{};\n"
                    "    location / {{\n      proxy_pass http://{};\n      proxy_buffering off;\n"
                    "      proxy_read_timeout 1h;\n    }}\n  }}\n",
                    listen, config.server.domain, dashboard);
  }
  // A host name goes to one app only, or nginx refuses the whole configuration: every
  // app's own APP.DOMAIN first, then added domains in order, never one under the server's
  // domain nor a wildcard that would match one (those belong to the app of that name). A
  // wildcard and a name it matches may go to different apps: nginx picks the exact name.
  std::set<std::string> taken;
  for (const auto& route : routes) {
    if (!route.hosts.empty()) {
      taken.insert(route.hosts.front());
    }
  }
  for (const auto& route : routes) {
    if (route.hosts.empty()) {
      continue;
    }
    std::string names = " " + route.hosts.front();
    for (std::size_t i = 1; i < route.hosts.size(); ++i) {
      const std::string& host = route.hosts[i];
      if (!reaches_domain(host, config.server.domain) && taken.insert(host).second) {
        names += " " + host;
      }
    }
    out += "\n";
    if (route.maintenance) {
      // Every request, every method: its processes keep running behind it.
      out += fmt::format("  server {{\n    listen {};\n    server_name{};\n    location / {{\n"
                         "      default_type text/html;\n      add_header Retry-After 60 always;\n"
                         "      add_header Cache-Control no-store always;\n"
                         "      return 503 '{}';\n    }}\n  }}\n",
                         listen, names, k_maintenance_page);
      continue;
    }
    if (!route.upstreams.empty()) {
      out += fmt::format("  upstream slipway-{} {{\n", route.app);
      for (const auto& upstream : route.upstreams) {
        out += fmt::format("    server {} max_fails=0;\n", upstream);
      }
      out += "  }\n";
    }
    out += fmt::format("  server {{\n    listen {};\n    server_name{};\n", listen, names);
    if (route.upstreams.empty()) {
      out += fmt::format("    location / {{\n      default_type text/plain;\n      return 503 "
                         "\"{} has no web processes running\\n\";\n    }}\n",
                         route.app);
    } else {
      out += fmt::format("    location / {{\n      proxy_pass http://slipway-{};\n    }}\n",
                         route.app);
    }
    out += "  }\n";
  }
  out += "}\n";
  return out;
}

} // namespace slipway::daemon
