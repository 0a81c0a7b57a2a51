#include <catch2/catch.hpp>

#include "api/dashboard.hpp"
#include "dashboard/assets.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::api;
using namespace slipway::test;

namespace {

Request request_with(std::vector<std::pair<std::string, std::string>> headers) {
  Request request{http::verb::post, "/apps", 11};
  for (auto& [name, value] : headers) {
    request.insert(name, value);
  }
  return request;
}

} // namespace

TEST_CASE("the session cookie is read from any Cookie header, and only when it is plain",
          "[dashboard]") {
  CHECK(session_cookie(request_with({{"Cookie", "a=b; slipway_session=slipway_abc123; c=d"}})) ==
        "slipway_abc123");
  CHECK(session_cookie(request_with({{"Cookie", "a=b"}, {"Cookie", "slipway_session=xyz"}})) ==
        "xyz");
  CHECK(session_cookie(request_with({{"Cookie", "slipway_sessionx=1"}})).empty());
  CHECK(session_cookie(request_with({{"Cookie", "slipway_session="}})).empty());
  CHECK(session_cookie(request_with({{"Cookie", "slipway_session=a\"b"}})).empty());
  CHECK(session_cookie(request_with({{"Cookie", "slipway_session=" + std::string(300, 'a')}}))
            .empty());
  CHECK(session_cookie(request_with({})).empty());
}

TEST_CASE("a write with the session cookie needs its CSRF token, from this server's origin",
          "[dashboard]") {
  UrlSigner signer(std::string(64, 'k'));
  std::string csrf = csrf_token(signer, "slipway_one");
  CHECK(csrf.size() == 64);
  CHECK(csrf != csrf_token(signer, "slipway_two"));
  CHECK(csrf != csrf_token(UrlSigner(std::string(64, 'j')), "slipway_one"));

  CHECK(check_write(request_with({{"Host", "127.0.0.1:5000"}, {"X-CSRF-Token", csrf}}), signer,
                    "slipway_one"));
  CHECK(check_write(request_with({{"Host", "dash.example.com"},
                                  {"Origin", "https://dash.example.com"},
                                  {"Sec-Fetch-Site", "same-origin"},
                                  {"X-CSRF-Token", csrf}}),
                    signer, "slipway_one"));
  auto missing = check_write(request_with({{"Host", "h"}}), signer, "slipway_one");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::forbidden);
  CHECK(contains(missing.error().message, "X-CSRF-Token"));
  CHECK_FALSE(
      check_write(request_with({{"Host", "h"}, {"X-CSRF-Token", csrf}}), signer, "slipway_two"));
  CHECK_FALSE(check_write(request_with({{"Host", "h"}, {"X-CSRF-Token", csrf}}), signer, ""));
  CHECK_FALSE(check_write(
      request_with({{"Host", "h"}, {"Origin", "http://evil.example"}, {"X-CSRF-Token", csrf}}),
      signer, "slipway_one"));
  CHECK_FALSE(check_write(
      request_with({{"Host", "h"}, {"Origin", "http://h.evil.example"}, {"X-CSRF-Token", csrf}}),
      signer, "slipway_one"));
  CHECK_FALSE(check_write(
      request_with({{"Host", "h"}, {"Sec-Fetch-Site", "cross-site"}, {"X-CSRF-Token", csrf}}),
      signer, "slipway_one"));
  CHECK_FALSE(check_origin(request_with({{"Host", "h"}, {"Origin", "null"}})));
}

TEST_CASE("the dashboard's assets are all there, each with its media type and ETag, and its "
          "script never parses text as HTML",
          "[dashboard]") {
  for (const char* name : {"index.html", "signin.html", "dashboard.js", "board.js", "app.js",
                           "dashboard.css", "favicon.svg"}) {
    INFO(name);
    const auto* asset = dashboard::find_asset(name);
    REQUIRE(asset);
    CHECK(asset->body.size() > 100);
    CHECK(asset->etag.size() == 34);
  }
  CHECK(dashboard::find_asset("index.html")->content_type == "text/html; charset=utf-8");
  CHECK(dashboard::find_asset("dashboard.js")->content_type == "text/javascript; charset=utf-8");
  CHECK(dashboard::find_asset("../CMakeLists.txt") == nullptr);
  for (const auto& asset : dashboard::assets()) {
    if (!asset.name.ends_with(".js")) {
      continue;
    }
    for (const char* unsafe : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                               "eval(", "new Function"}) {
      INFO(asset.name << ": " << unsafe);
      CHECK(asset.body.find(unsafe) == std::string_view::npos);
    }
  }
  // No asset comes from elsewhere.
  for (const auto& asset : dashboard::assets()) {
    INFO(asset.name);
    CHECK(asset.body.find("https://") == std::string_view::npos);
    CHECK(asset.body.find("//cdn") == std::string_view::npos);
  }
}
