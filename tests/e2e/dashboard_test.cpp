// The dashboard: in a real browser (tests/e2e/dashboard_browser.mjs: Playwright from npm driving
// Debian's Chromium, with axe-core), and its sessions and CSRF checks request by request.
#include <catch2/catch.hpp>

#include "tests/e2e/api_harness.hpp"

namespace slipway::test {

namespace {

// What a browser asks for a page with (an API client's Accept gets the API's answers).
const std::string k_html = "Accept: text/html";

// The session cookie's value in a response's Set-Cookie, or "".
std::string session_of(const ApiResponse& response) {
  std::string cookie = response.header("set-cookie");
  auto start = cookie.find("slipway_session=");
  if (start == std::string::npos) {
    return "";
  }
  start += 16;
  return cookie.substr(start, cookie.find(';', start) - start);
}

struct Session {
  std::string cookie;
  std::string csrf;
};

Session sign_in(const ApiServer& api, const std::string& token) {
  auto signed_in =
      api.request("POST", "/dashboard/session", "", nlohmann::json{{"token", token}}.dump());
  INFO(signed_in.body);
  REQUIRE(signed_in.status == 201);
  Session session{session_of(signed_in), signed_in.json()["csrf"].get<std::string>()};
  REQUIRE(session.cookie.starts_with("slipway_"));
  return session;
}

} // namespace

TEST_CASE("the dashboard in a browser: sign in, a push shows live, promote, roll back, a review "
          "app comes and goes, a collaborator sees only its apps, CSRF, accessibility",
          "[dashboard][browser]") {
  ApiServer api;
  Server& server = api.server;
  server.create("shop-staging", fixture("apps/stage"));
  // A worker that crashes as soon as it starts, for the board's red badge (scaled up later).
  server.write("shop-staging", "Procfile",
               "web: python3 server.py\nrelease: python3 release.py\n"
               "worker: sh -c 'echo starting and failing; exit 3'\n");
  server.commit("shop-staging", "a worker that fails");
  REQUIRE(server.slipway({"config:set", "-a", "shop-staging", "STAGE_NAME=staging"}).ok());
  auto pushed = server.push("shop-staging");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  REQUIRE(server.slipway({"apps:create", "shop-prod"}).ok());
  REQUIRE(server.slipway({"config:set", "-a", "shop-prod", "STAGE_NAME=production"}).ok());
  REQUIRE(server.slipway({"pipelines:create", "shop", "-a", "shop-staging", "-s", "staging"}).ok());
  REQUIRE(server.slipway({"pipelines:add", "shop", "-a", "shop-prod", "-s", "production"}).ok());
  REQUIRE(
      server.slipway({"reviewapps:enable", "-p", "shop", "--autodeploy", "--autodestroy"}).ok());
  REQUIRE(server.slipway({"apps:create", "bob-app"}).ok());
  REQUIRE(server.slipway({"access:add", "bob", "-a", "bob-app"}).ok());

  fs::path artifacts = fs::path(SLIPWAY_ARTIFACTS) / "dashboard";
  fs::create_directories(artifacts);
  for (const char* name : {"board.png", "board-review-app.png", "app.png", "failure.png"}) {
    fs::remove(artifacts / name);
  }
  auto browser =
      run({.argv = {"node", (fs::path(SLIPWAY_TESTS) / "e2e/dashboard_browser.mjs").string()},
           .env = {{"BASE", "http://" + api.address},
                   {"ALICE", api.alice},
                   {"BOB", api.bob},
                   {"HTTP_PORT", std::to_string(server.http_port)},
                   {"WORK", server.work("shop-staging").string()},
                   {"REPO", (server.root / "repos/shop-staging.git").string()},
                   {"ARTIFACTS", artifacts.string()},
                   {"BROWSER_TOOLS", SLIPWAY_BROWSER_TOOLS},
                   {"HOME", (server.dir / "home").string()}},
           .timeout = std::chrono::minutes(6)});
  REQUIRE(browser);
  INFO(browser->output);
  UNSCOPED_INFO("daemon log:\n" << server.daemon.log());
  CHECK(browser->ok());
  for (const char* name : {"board.png", "board-review-app.png", "app.png"}) {
    INFO(name);
    CHECK(fs::file_size(artifacts / name) > 10000);
  }
  // The review app the branch made is gone with the branch.
  CHECK_FALSE(fs::exists(server.root / "apps" / "shop-feature-x"));
}

TEST_CASE("dashboard sessions: a cookie and not a token, CSRF and origin checked on every "
          "write, ended by signing out and by revoking the token",
          "[dashboard][api]") {
  ApiServer api;
  REQUIRE(api.server.slipway({"apps:create", "mine"}).ok());

  // Pages and assets: an unsigned visitor is sent to sign in; no asset is an HTML page.
  auto board = api.request("GET", "/", "", "", {k_html});
  CHECK(board.status == 303);
  CHECK(board.header("location") == "/signin");
  auto signin = api.request("GET", "/signin", "", "", {k_html});
  CHECK(signin.status == 200);
  CHECK(contains(signin.header("content-security-policy"), "script-src 'self'"));
  CHECK(contains(signin.header("x-frame-options"), "DENY"));
  auto script = api.request("GET", "/assets/dashboard.js", "", "", {k_html});
  CHECK(script.status == 200);
  CHECK(contains(script.header("content-type"), "text/javascript"));
  auto again = api.request("GET", "/assets/dashboard.js", "", "",
                           {k_html, "If-None-Match: " + script.header("etag")});
  CHECK(again.status == 304);
  CHECK(api.request("GET", "/assets/index.html", "", "", {k_html}).status == 404);
  auto climbing = api.request("GET", "/assets/..%2fplatform.cpp", "", "", {k_html});
  CHECK((climbing.status == 400 || climbing.status == 404));

  // Signing in: a bad token, a form post (not JSON), and a page of another origin are refused.
  CHECK(api.request("POST", "/dashboard/session", "", R"({"token": "slipway_00"})").status == 401);
  CHECK(api.request("POST", "/dashboard/session", "", "", {"Content-Type: text/plain"}).status ==
        415);
  auto elsewhere =
      api.request("POST", "/dashboard/session", "", nlohmann::json{{"token", api.alice}}.dump(),
                  {"Origin: http://evil.example"});
  CHECK(elsewhere.status == 403);
  CHECK(session_of(elsewhere).empty());

  Session alice = sign_in(api, api.alice);
  std::string cookie = "Cookie: slipway_session=" + alice.cookie;
  auto signed_in = api.request("GET", "/dashboard/session", "", "", {cookie});
  CHECK(signed_in.status == 200);
  CHECK(signed_in.json()["user"] == "alice");
  CHECK(signed_in.json()["csrf"] == alice.csrf);
  CHECK(api.request("GET", "/", "", "", {k_html, cookie}).status == 200);
  // The session is listed with the key's tokens, and the token never becomes a cookie.
  auto tokens = api.server.slipway({"authorizations", "--json"});
  CHECK(contains(tokens.output, "dashboard session"));
  CHECK(alice.cookie != api.alice);

  // A cookie is no API token, and a token no cookie.
  CHECK(api.request("GET", "/apps", alice.cookie).status == 401);
  CHECK(api.request("GET", "/apps", "", "", {"Cookie: slipway_session=" + api.alice}).status ==
        401);
  // A session cannot sign in again to outlive itself.
  CHECK(
      api.request("POST", "/dashboard/session", "", nlohmann::json{{"token", alice.cookie}}.dump())
          .status == 401);

  // Writes need the session's CSRF token, from this origin.
  std::string body = R"({"GREETING": "hi"})";
  CHECK(api.request("PATCH", "/apps/mine/config-vars", "", body, {cookie}).status == 403);
  CHECK(api.request("PATCH", "/apps/mine/config-vars", "", body,
                    {cookie, "X-CSRF-Token: " + std::string(64, '0')})
            .status == 403);
  CHECK(api.request("PATCH", "/apps/mine/config-vars", "", body,
                    {cookie, "X-CSRF-Token: " + alice.csrf, "Origin: http://evil.example"})
            .status == 403);
  CHECK(api.request("PATCH", "/apps/mine/config-vars", "", body,
                    {cookie, "X-CSRF-Token: " + alice.csrf, "Sec-Fetch-Site: cross-site"})
            .status == 403);
  CHECK_FALSE(api.server.slipway({"config:get", "-a", "mine", "GREETING"}).ok());
  auto written =
      api.request("PATCH", "/apps/mine/config-vars", "", body,
                  {cookie, "X-CSRF-Token: " + alice.csrf, "Origin: http://" + api.address});
  CHECK(written.status == 200);
  CHECK(contains(api.server.slipway({"config:get", "-a", "mine", "GREETING"}).output, "hi"));
  // Another session's CSRF token is not this one's.
  Session other = sign_in(api, api.alice);
  CHECK(other.csrf != alice.csrf);
  CHECK(api.request("PATCH", "/apps/mine/config-vars", "", body,
                    {cookie, "X-CSRF-Token: " + other.csrf})
            .status == 403);

  // Signing out needs the CSRF token too, and ends the session.
  CHECK(api.request("DELETE", "/dashboard/session", "", "", {cookie}).status == 403);
  auto out =
      api.request("DELETE", "/dashboard/session", "", "", {cookie, "X-CSRF-Token: " + alice.csrf});
  CHECK(out.status == 200);
  CHECK(contains(out.header("set-cookie"), "Max-Age=0"));
  CHECK(api.request("GET", "/dashboard/session", "", "", {cookie}).status == 401);
  CHECK(api.request("GET", "/", "", "", {k_html, cookie}).status == 303);

  // Revoking the token ends the sessions signed in with it.
  std::string other_cookie = "Cookie: slipway_session=" + other.cookie;
  CHECK(api.request("GET", "/dashboard/board", "", "", {other_cookie}).status == 200);
  auto listed = nlohmann::json::parse(api.server.slipway({"authorizations", "--json"}).output,
                                      nullptr, false);
  REQUIRE(listed.is_array());
  std::string token_id;
  for (const auto& each : listed) {
    if (each.value("description", "") != "dashboard session" && each.value("key", "") == "alice") {
      token_id = each.value("id", "");
    }
  }
  REQUIRE_FALSE(token_id.empty());
  REQUIRE(api.server.slipway({"authorizations:revoke", token_id}).ok());
  CHECK(api.request("GET", "/dashboard/board", "", "", {other_cookie}).status == 401);
}

TEST_CASE("the dashboard's event stream carries only the events of the reader's apps, and the "
          "board only its apps",
          "[dashboard][api]") {
  ApiServer api;
  REQUIRE(api.server.slipway({"apps:create", "mine"}).ok());
  REQUIRE(api.server.slipway({"apps:create", "theirs"}).ok());
  REQUIRE(api.server.slipway({"access:add", "bob", "-a", "mine"}).ok());
  Session bob = sign_in(api, api.bob);
  std::string cookie = "Cookie: slipway_session=" + bob.cookie;

  auto board = api.request("GET", "/dashboard/board", "", "", {cookie});
  REQUIRE(board.status == 200);
  auto apps = board.json()["apps"];
  REQUIRE(apps.size() == 1);
  CHECK(apps[0]["app"] == "mine");
  CHECK(api.request("GET", "/app/theirs", "", "", {k_html, cookie}).status == 404);
  CHECK(api.request("GET", "/app/nothing-here", "", "", {k_html, cookie}).status == 404);
  CHECK(api.request("GET", "/app/mine", "", "", {k_html, cookie}).status == 200);
  // An API client asking for the same paths gets the API's answer.
  auto as_api = api.request("GET", "/", api.bob);
  CHECK(as_api.status == 404);
  CHECK(as_api.json()["id"] == "not_found");
  CHECK(api.request("GET", "/dashboard/activity?app=theirs", "", "", {cookie}).status == 403);

  // The stream, read for 3 s while both apps change.
  fs::path out = api.server.dir / "events.txt";
  std::thread reader([&] {
    run_program({"sh", "-c",
                 "curl -s -N --max-time 3 -H '" + cookie + "' http://" + api.address +
                     "/dashboard/events > " + out.string() + " || true"});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  REQUIRE(api.server.slipway({"config:set", "-a", "theirs", "SECRET_NAME=1"}).ok());
  REQUIRE(api.server.slipway({"config:set", "-a", "mine", "VISIBLE=1"}).ok());
  reader.join();
  std::string stream = read_text(out);
  INFO(stream);
  CHECK(contains(stream, "retry: 1000"));
  CHECK(contains(stream, "\"app\":\"mine\""));
  CHECK(contains(stream, "VISIBLE"));
  CHECK_FALSE(contains(stream, "theirs"));
  CHECK_FALSE(contains(stream, "SECRET_NAME"));

  // A browser that reconnects (Last-Event-ID) gets what it missed, from there on.
  auto first = stream.find("id: ");
  REQUIRE(first != std::string::npos);
  std::string id = stream.substr(first + 4, stream.find('\n', first) - first - 4);
  auto resumed = run_program({"sh", "-c",
                              "curl -s -N --max-time 2 -H '" + cookie +
                                  "' -H 'Last-Event-ID: " + std::to_string(std::stoull(id) - 1) +
                                  "' http://" + api.address + "/dashboard/events || true"});
  CHECK(contains(resumed.output, "id: " + id + "\n"));
  CHECK(contains(resumed.output, "VISIBLE"));
}

TEST_CASE("nginx serves the dashboard at dashboard.DOMAIN, and no app may take that name",
          "[dashboard][api]") {
  ApiServer api;
  auto page = http_request(api.server.http_port, "dashboard.localhost", "/signin");
  INFO(page.body);
  UNSCOPED_INFO("daemon log:\n" << api.server.daemon.log());
  CHECK(page.status == 200);
  CHECK(contains(page.body, "Sign in"));
  auto api_call = http_request(api.server.http_port, "dashboard.localhost", "/apps");
  CHECK(api_call.status == 401);
  auto refused = api.server.slipway({"apps:create", "dashboard"});
  CHECK_FALSE(refused.ok());
  CHECK(contains(refused.output, "the server's own"));
  REQUIRE(api.server.slipway({"apps:create", "other"}).ok());
  CHECK_FALSE(api.server.slipway({"apps:rename", "other", "dashboard"}).ok());
  CHECK(api.request("POST", "/apps", api.alice, R"({"name": "dashboard"})").status == 422);
}

} // namespace slipway::test
