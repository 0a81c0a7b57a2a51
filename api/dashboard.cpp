#include "api/dashboard.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "api/routing.hpp"
#include "common/hash.hpp"
#include "common/time.hpp"
#include "dashboard/assets.hpp"
#include "ops/apps.hpp"
#include "ops/authorizations.hpp"

namespace slipway::api {

namespace {

// What every page and asset is sent with: nothing but this server's own scripts, styles and
// connections; never framed; no referrer leaves with a link.
void secure(Response& response) {
  response.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
}

Response asset_response(const dashboard::Asset& asset, const Request& request,
                        http::status status = http::status::ok) {
  Response response{.status = status, .content_type = std::string(asset.content_type)};
  secure(response);
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("ETag", std::string(asset.etag));
  if (status == http::status::ok && to_std(request[http::field::if_none_match]) == asset.etag) {
    response.status = http::status::not_modified;
  } else {
    response.body = std::string(asset.body);
  }
  return response;
}

Response page(std::string_view name, const Request& request,
              http::status status = http::status::ok) {
  const auto* asset = dashboard::find_asset(name);
  if (!asset) {
    return error_response(http::status::internal_server_error, "internal",
                          "The dashboard was built without its pages.");
  }
  return asset_response(*asset, request, status);
}

Response redirect(std::string location) {
  Response response{.status = http::status::see_other, .content_type = "text/plain"};
  response.headers.emplace_back("Location", std::move(location));
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

// Whether the request came to nginx over https (the cookie is then Secure).
bool over_https(const Request& request) {
  return to_std(request["X-Forwarded-Proto"]) == "https";
}

std::string cookie(const Request& request, std::string_view value, long max_age) {
  return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}", k_session_cookie,
                     value, max_age, over_https(request) ? "; Secure" : "");
}

Response sign_in(const DashboardFront& front, const Request& request) {
  if (!to_std(request[http::field::content_type]).starts_with("application/json")) {
    return error_response(http::status::unsupported_media_type, "unsupported_media_type",
                          "Sign in with a JSON body: {\"token\": \"slipway_...\"}.");
  }
  // No session yet, so no CSRF token: a page of another origin cannot send JSON here without
  // asking first (CORS), and is refused by its Origin besides.
  if (auto checked = check_origin(request); !checked) {
    return error_response(http::status::forbidden, "forbidden", checked.error().message);
  }
  auto body = nlohmann::json::parse(request.body(), nullptr, false);
  auto token = body.is_object() && body.contains("token") && body["token"].is_string()
                   ? body["token"].get<std::string>()
                   : std::string();
  if (token.empty() || token.size() > 200) {
    return error_response(http::status::unprocessable_entity, "invalid_params",
                          "Paste an API token (slipway authorizations:create) as \"token\".");
  }
  auto made = ops::sign_in(front.layout, front.config, token);
  if (!made) {
    return error_response(http::status::unauthorized, "unauthorized",
                          std::string(ops::k_invalid_credentials));
  }
  auto expires = *made->authorization.expires_at;
  long max_age =
      std::chrono::duration_cast<std::chrono::seconds>(expires - std::chrono::system_clock::now())
          .count();
  Response response = json_response({{"user", made->authorization.key},
                                     {"expires_at", format_time(expires)},
                                     {"csrf", csrf_token(front.signer, made->token)}},
                                    http::status::created);
  response.headers.emplace_back("Set-Cookie", cookie(request, made->token, max_age));
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

Response sign_out(const DashboardFront& front, const Request& request) {
  std::string session = session_cookie(request);
  if (!session.empty()) {
    if (auto checked = check_write(request, front.signer, session); !checked) {
      return error_response(http::status::forbidden, "forbidden", checked.error().message);
    }
    if (auto ended = ops::sign_out(front.layout, front.config, session); !ended) {
      return error_response(http::status::service_unavailable, "unavailable",
                            ended.error().message);
    }
  }
  Response response = json_response({{"signed_out", true}});
  response.headers.emplace_back("Set-Cookie", cookie(request, "", 0));
  return response;
}

} // namespace

std::string session_cookie(const Request& request) {
  for (auto field = request.find(http::field::cookie);
       field != request.end() && field->name() == http::field::cookie; ++field) {
    std::string_view cookies = to_std(field->value());
    while (!cookies.empty()) {
      auto end = cookies.find(';');
      std::string_view pair = cookies.substr(0, end);
      cookies = end == std::string_view::npos ? std::string_view() : cookies.substr(end + 1);
      pair.remove_prefix(std::min(pair.find_first_not_of(' '), pair.size()));
      auto equals = pair.find('=');
      if (equals == std::string_view::npos || pair.substr(0, equals) != k_session_cookie) {
        continue;
      }
      std::string_view value = pair.substr(equals + 1);
      bool plain = !value.empty() && value.size() <= 200 && std::ranges::all_of(value, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      });
      return plain ? std::string(value) : std::string();
    }
  }
  return "";
}

std::string csrf_token(const UrlSigner& signer, std::string_view session) {
  return signer.tag(fmt::format("dashboard csrf {}", sha256_hex(session)));
}

Expected<void> check_origin(const Request& request) {
  std::string_view origin = to_std(request[http::field::origin]);
  std::string_view host = to_std(request[http::field::host]);
  if (!origin.empty() && origin != fmt::format("http://{}", host) &&
      origin != fmt::format("https://{}", host)) {
    return fail_as(ErrorKind::forbidden,
                   "This request comes from another origin than this server's; it is refused.");
  }
  std::string_view site = to_std(request["Sec-Fetch-Site"]);
  if (!site.empty() && site != "same-origin" && site != "none") {
    return fail_as(ErrorKind::forbidden,
                   "This request comes from another origin than this server's; it is refused.");
  }
  return {};
}

Expected<void> check_write(const Request& request, const UrlSigner& signer,
                           std::string_view session) {
  TRY(check_origin(request));
  std::string_view sent = to_std(request["X-CSRF-Token"]);
  if (session.empty() || sent.empty() ||
      !equal_in_constant_time(csrf_token(signer, session), sent)) {
    return fail_as(ErrorKind::forbidden,
                   "This request needs the dashboard's CSRF token (X-CSRF-Token); reload the "
                   "page and try again.");
  }
  return {};
}

std::optional<Response> dashboard_front(const DashboardFront& front, const Request& request) {
  std::string_view target = to_std(request.target());
  std::string_view path = target.substr(0, target.find('?'));
  auto method = request.method();
  if (path == "/dashboard/session") {
    if (method == http::verb::post) {
      return sign_in(front, request);
    }
    if (method == http::verb::delete_) {
      return sign_out(front, request);
    }
    return std::nullopt; // GET: a route, with the session's context
  }
  // An API client (a token, or Heroku's media type) asking for these paths gets the API's
  // answer (a 404 in its JSON), not a page.
  if ((method != http::verb::get && method != http::verb::head) ||
      !request[http::field::authorization].empty() ||
      to_std(request[http::field::accept]).find("application/vnd.heroku+json") !=
          std::string_view::npos) {
    return std::nullopt;
  }
  if (path == "/signin") {
    return page("signin.html", request);
  }
  if (path == "/" || path.starts_with("/app/")) {
    auto context = front.session();
    if (!context) {
      return redirect(path == "/" ? "/signin" : "/signin?next=" + std::string(path));
    }
    if (path == "/") {
      return page("index.html", request);
    }
    // Another key's app, or none: the same answer, and nothing of it in the page.
    auto segments = path_segments(path);
    bool found = segments && segments->size() == 2 && ops::find_app(*context, (*segments)[1]);
    return page("index.html", request, found ? http::status::ok : http::status::not_found);
  }
  if (path.starts_with("/assets/")) {
    const auto* asset = dashboard::find_asset(path.substr(8));
    if (!asset || asset->name.ends_with(".html")) {
      return error_response(http::status::not_found, "not_found", "No such asset.");
    }
    return asset_response(*asset, request);
  }
  if (path == "/favicon.ico") {
    return page("favicon.svg", request);
  }
  return std::nullopt;
}

} // namespace slipway::api
