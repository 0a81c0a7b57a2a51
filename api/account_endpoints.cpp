// GET /account, /oauth/authorizations (list, create, info, revoke).
#include <charconv>

#include "api/endpoints.hpp"
#include "api/shapes.hpp"
#include "ops/access.hpp"
#include "ops/authorizations.hpp"

namespace slipway::api {

namespace {

using nlohmann::json;

Expected<Response> account(Call& call) {
  const ops::Context& context = call.context;
  auto key = TRY(find_key(context.layout, context.actor.name));
  return json_response(account_json(context.layout, context.config, key));
}

Expected<Response> list_authorizations(Call& call) {
  const ops::Context& context = call.context;
  json out = json::array();
  for (const auto& authorization : TRY(ops::list_authorizations(context))) {
    out.push_back(authorization_json(context.layout, context.config, authorization));
  }
  return json_response(out);
}

Expected<Response> show_authorization(Call& call) {
  const ops::Context& context = call.context;
  for (const auto& authorization : TRY(ops::list_authorizations(context))) {
    if (authorization.id == call.params[0]) {
      return json_response(authorization_json(context.layout, context.config, authorization));
    }
  }
  return fail_as(ErrorKind::not_found, "no authorization has the id '{}'",
                 call.params[0].substr(0, 64));
}

Expected<Response> create_authorization(Call& call) {
  auto body = TRY(call.body());
  ops::CreateAuthorization request{.description =
                                       TRY(string_member(body, "description")).value_or("")};
  if (auto expires = body.find("expires_in"); expires != body.end() && !expires->is_null()) {
    // A number, or the number as a string (as the heroku CLI sends it).
    long long seconds = 0;
    std::string text = expires->is_string() ? expires->get<std::string>() : "";
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (expires->is_number_integer()) {
      seconds = expires->get<long long>();
    } else if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
      return usage_error("'expires_in' must be a number of seconds");
    }
    request.expires_in = std::chrono::seconds(seconds);
  }
  if (auto scope = body.find("scope");
      scope != body.end() && !scope->is_null() && *scope != json::array({"global"})) {
    return usage_error("tokens here act with all of their key's rights: the only scope is "
                       "\"global\"");
  }
  auto made = TRY(ops::create_authorization(call.context, request));
  json out = authorization_json(call.context.layout, call.context.config, made.authorization);
  out["access_token"]["token"] = made.token; // this once
  return json_response(out, http::status::created);
}

Expected<Response> revoke_authorization(Call& call) {
  const ops::Context& context = call.context;
  auto revoked = TRY(ops::revoke_authorization(context, call.params[0]));
  return json_response(authorization_json(context.layout, context.config, revoked));
}

} // namespace

void add_account_routes(std::vector<Route>& routes) {
  routes.push_back({http::verb::get, "/account", account});
  // The heroku CLI's pipelines:create asks whom the pipeline will belong to.
  routes.push_back({http::verb::get, "/users/~", account});
  routes.push_back({http::verb::get, "/oauth/authorizations", list_authorizations});
  routes.push_back({http::verb::post, "/oauth/authorizations", create_authorization});
  routes.push_back({http::verb::get, "/oauth/authorizations/{}", show_authorization});
  routes.push_back({http::verb::delete_, "/oauth/authorizations/{}", revoke_authorization});
}

} // namespace slipway::api
