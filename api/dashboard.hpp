// The dashboard's front door (api/ only): its pages and assets, signing in and out, and how a
// request made by its pages is authenticated — the session cookie, with a CSRF token on every
// write. The pages then call the Platform API itself (and /dashboard/board and
// /dashboard/events, in dashboard_endpoints.cpp), so the dashboard has no rule of its own.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "api/endpoints.hpp"
#include "api/http_server.hpp"
#include "common/config.hpp"
#include "ops/context.hpp"
#include "runtime/layout.hpp"

namespace slipway::api {

// The session cookie: HttpOnly, SameSite=Strict, Path=/, with the session's expiry.
inline constexpr std::string_view k_session_cookie = "slipway_session";

// The value of the session cookie in the request's Cookie headers, or "".
std::string session_cookie(const Request& request);

// A session's CSRF token: what its pages send as X-CSRF-Token on every write.
std::string csrf_token(const UrlSigner& signer, std::string_view session);

// Whether the request, when the browser says where it comes from (Origin, Sec-Fetch-Site),
// comes from this server's own origin; the error is the 403 to answer.
Expected<void> check_origin(const Request& request);

// Whether a write made with the session cookie may go on: it carries the session's CSRF token
// and, when the browser says where it comes from (Origin), comes from this server's own origin.
// The error is the 403 to answer.
Expected<void> check_write(const Request& request, const UrlSigner& signer,
                           std::string_view session);

// What the dashboard needs of the Platform API's front end.
struct DashboardFront {
  const Layout& layout;
  const Config& config;
  const UrlSigner& signer;
  // The context of the request's session cookie (k_invalid_credentials without a valid one).
  std::function<Expected<ops::Context>()> session;
};

// The dashboard's pages (/, /signin, /app/NAME), its assets (/assets/NAME), and signing in
// and out (POST and DELETE /dashboard/session); nullopt when the request is none of those.
std::optional<Response> dashboard_front(const DashboardFront& front, const Request& request);

} // namespace slipway::api
