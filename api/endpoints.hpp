// What the Platform API's endpoints share (api/ only): the call an endpoint handles, its
// route, and the helpers that turn path parameters and bodies into ops/ requests.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_server.hpp"
#include "api/range.hpp"
#include "common/error.hpp"
#include "ops/apps.hpp"
#include "ops/context.hpp"

namespace slipway::api {

// What signs and checks the URLs of streams (a log session's logplex_url, a build's
// output_stream_url): they are fetched without the token, so they carry a signature of
// their own, made with the server's secret (ROOT/keys/api-secret), and an expiry.
class UrlSigner {
 public:
  explicit UrlSigner(std::string secret) : m_secret(std::move(secret)) {}
  // "PATH?QUERY" with "&expires=EPOCH&sig=HEX" added.
  std::string sign(std::string_view path_and_query, std::chrono::seconds valid_for) const;
  // Whether `target` (as requested) carries a valid, unexpired signature.
  bool verify(std::string_view target) const;
  // An HMAC of `text` with the same secret, in hex (the dashboard's CSRF tokens).
  std::string tag(std::string_view text) const;

 private:
  std::string m_secret;
};

struct Call {
  const Request& request;
  const ops::Context& context;
  std::vector<std::string> params; // the path's {placeholders}, in order
  const UrlSigner& signer;
  std::string base_url; // "http://HOST" as the client reached us, for the URLs we hand out
  std::string csrf;     // a dashboard session's request: its CSRF token (api/dashboard.hpp)

  // The body as a JSON object (an empty body is {}); the error names what is wrong.
  Expected<nlohmann::json> body() const;
  // The Range header, parsed for a list sortable by `fields` (the first is the default).
  Expected<Range> range(std::span<const std::string_view> fields) const;
  // The value of query parameter `name` in the target ("?lines=20&tail=1"), decoded.
  std::optional<std::string> query(std::string_view name) const;
};

using Endpoint = std::function<Expected<Response>(Call& call)>;

struct Route {
  http::verb method;
  std::string_view pattern; // "/apps/{}/releases/{}": each {} is a parameter
  Endpoint endpoint;
  // Reached by a signed URL instead of a token (the streams); the context is the key the
  // URL names.
  bool signed_url = false;
};

// Every route of the API, each file its resources'.
void add_account_routes(std::vector<Route>& routes);
void add_app_routes(std::vector<Route>& routes);
void add_release_routes(std::vector<Route>& routes);
void add_process_routes(std::vector<Route>& routes);
// After add_app_routes: it teaches the apps' PATCH promotion_only.
void add_pipeline_routes(std::vector<Route>& routes);
void add_test_run_routes(std::vector<Route>& routes);
void add_review_app_routes(std::vector<Route>& routes);
void add_webhook_routes(std::vector<Route>& routes);
// The dashboard's own (/dashboard/session, /dashboard/board, /dashboard/activity,
// /dashboard/events).
void add_dashboard_routes(std::vector<Route>& routes);

// A git host's webhook (POST /hooks/github, /hooks/gitlab, /hooks/gitea), which carries no
// token: the delivery's signature is checked instead. nullopt: the path is none of those.
std::optional<Response> git_host_webhook(const Layout& layout, const Config& config,
                                         const Request& request);

// A chat's slash command (POST /chat/slack, /chat/mattermost), checked by its signature or
// token. nullopt: the path is neither.
std::optional<Response> chat_command(const Layout& layout, const Config& config,
                                     const Request& request);

// A JSON body (200 unless told).
Response json_response(const nlohmann::json& body, http::status status = http::status::ok);

// A page of a list: 200 when it is all of it, else 206 with Next-Range.
template <class T>
Response page_response(const Page<T>& page, const Range& range,
                       const std::function<nlohmann::json(const T&)>& shape,
                       const std::function<std::string(const T&)>& value) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : page.items) {
    out.push_back(shape(item));
  }
  Response response =
      json_response(out, page.more ? http::status::partial_content : http::status::ok);
  response.headers.emplace_back("Accept-Ranges", range.field);
  if (page.more && !page.items.empty()) {
    response.headers.emplace_back("Next-Range", next_range(range, value(page.items.back())));
  }
  return response;
}

// A text that grows while something runs (a build's log, a test node's), streamed: what it
// holds, then what is appended, polled until `running` says no (asked before each read, so
// the last read has all of it) or the client goes.
Response follow_text(std::function<bool()> running, std::function<Expected<std::string>()> read);

// The value of query parameter `name` in a request target, decoded.
std::optional<std::string> query_value(std::string_view target, std::string_view name);

// A string member of a body, when present; the error names the member.
Expected<std::optional<std::string>> string_member(const nlohmann::json& body,
                                                   std::string_view name);

} // namespace slipway::api

namespace slipway::api {

// The app the path's first parameter names (a name or an id), if the actor may use it.
Expected<ops::AppRef> app_param(const Call& call);

// The owner the API shows for apps (slipway has none): the asking admin, else an admin.
std::string owner_for(const ops::Context& context);

} // namespace slipway::api
