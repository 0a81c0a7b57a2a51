// The Heroku Platform API v3 over slipway's operations: what lets the official `heroku` CLI
// (HEROKU_HOST=http://127.0.0.1:5000 HEROKU_API_KEY=TOKEN) drive a slipway server. A parser
// and printer only: a request becomes an ops/ request made as the token's key, and the result
// becomes Heroku's JSON; every rule and right is ops/'s, so the API answers as ssh does.
//
// Around every request: the token (Bearer, or Basic with the token as password), a rate
// limit per key (RateLimit-Remaining), a Request-Id, Range pagination (api/range.hpp), and
// errors as {"id": "not_found", "message": "..."} with Heroku's status codes. Tokens never
// reach a log; each request is logged as one line with the key, method, path and status.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/http_server.hpp"
#include "common/config.hpp"
#include "runtime/daemon.hpp"
#include "runtime/layout.hpp"

namespace slipway::api {

class Platform {
 public:
  Platform(const Layout& layout, const Config& config, std::function<void(std::string_view)> log);
  ~Platform();
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  Response handle(const Request& request, const std::string& peer);

  struct State;

 private:
  std::unique_ptr<State> m_state;
};

// The Platform API as a service of the daemon: an HttpServer on [api] listen serving a
// Platform, its address written to ROOT/run/api.address once it listens.
DaemonService platform_service(const Layout& layout);

} // namespace slipway::api
