// Apps (/apps, /users/~/apps; create, info, rename and maintenance by PATCH, delete), their
// domains and collaborators, and what `heroku apps:info` also asks for that slipway has not
// (add-ons, SNI endpoints: empty lists).
#include "api/endpoints.hpp"
#include "api/shapes.hpp"
#include "common/random.hpp"
#include "compiler/compile.hpp"
#include "ops/access.hpp"
#include "ops/domains.hpp"
#include "ops/maintenance.hpp"
#include "ops/rights.hpp"

namespace slipway::api {

namespace {

using nlohmann::json;

Expected<Response> list_apps(Call& call) {
  const ops::Context& context = call.context;
  auto range = TRY(call.range(std::array<std::string_view, 2>{"name", "id"}));
  std::vector<ops::AppSummary> apps;
  for (const auto& name : TRY(ops::list_apps(context))) {
    if (auto summary = ops::app_summary(context, name)) {
      apps.push_back(std::move(*summary));
    }
  }
  auto value = [&](const ops::AppSummary& app) { return range.field == "id" ? app.id : app.name; };
  std::string owner = owner_for(context);
  return page_response<ops::AppSummary>(
      paginate<ops::AppSummary>(std::move(apps), range, value), range,
      [&](const ops::AppSummary& app) {
        return app_json(context.layout, context.config, app, owner);
      },
      value);
}

Expected<Response> show_app(Call& call) {
  auto app = TRY(app_param(call));
  auto summary = TRY(ops::app_summary(call.context, app.name));
  return json_response(
      app_json(call.context.layout, call.context.config, summary, owner_for(call.context)));
}

Expected<Response> create_app(Call& call) {
  auto body = TRY(call.body());
  auto name = TRY(string_member(body, "name"));
  if (!name) {
    // Heroku names an app itself when the request does not.
    name = "app-" + TRY(random_hex(4));
  }
  TRY(ops::create_app(call.context, {.name = *name}));
  auto summary = TRY(ops::app_summary(call.context, *name));
  return json_response(
      app_json(call.context.layout, call.context.config, summary, owner_for(call.context)),
      http::status::created);
}

Expected<Response> update_app(Call& call) {
  auto app = TRY(app_param(call));
  auto body = TRY(call.body());
  for (const auto& [member, value] : body.items()) {
    if (member != "name" && member != "maintenance" && member != "build_stack" &&
        member != "promotion_only") {
      return usage_error("cannot change '{}' of an app (name, maintenance, promotion_only)",
                         member.substr(0, 64));
    }
  }
  auto promotion_only = body.find("promotion_only");
  if (promotion_only != body.end() && !promotion_only->is_boolean()) {
    return usage_error("'promotion_only' must be true or false");
  }
  // One stack: the buildpacks build on this server's system.
  if (auto stack = TRY(string_member(body, "build_stack")); stack && *stack != k_stack) {
    return usage_error("'{}' is not a stack of this server: apps build on {}", stack->substr(0, 64),
                       k_stack);
  }
  if (auto maintenance = body.find("maintenance"); maintenance != body.end()) {
    if (!maintenance->is_boolean()) {
      return usage_error("'maintenance' must be true or false");
    }
    TRY(ops::set_maintenance(call.context, {.app = app.name, .on = maintenance->get<bool>()}));
  }
  if (auto name = TRY(string_member(body, "name")); name && *name != app.name) {
    TRY(ops::rename_app(call.context, {.from = app.name, .to = *name}));
    app.name = *name;
  }
  if (promotion_only != body.end()) {
    TRY(ops::set_app(
        call.context,
        {.app = app.name,
         .settings = {{"promotion_only", promotion_only->get<bool>() ? "true" : "false"}}}));
  }
  auto summary = TRY(ops::app_summary(call.context, app.name));
  return json_response(
      app_json(call.context.layout, call.context.config, summary, owner_for(call.context)));
}

Expected<Response> destroy_app(Call& call) {
  auto app = TRY(app_param(call));
  auto summary = TRY(ops::app_summary(call.context, app.name));
  TRY(ops::destroy_app(call.context, {.name = app.name, .confirm = app.name}));
  return json_response(
      app_json(call.context.layout, call.context.config, summary, owner_for(call.context)));
}

// A domain as the path names it: its host name, or its id.
// nullopt when the app has no such domain.
Expected<std::optional<std::string>> domain_param(const Call& call, const ops::AppRef& app) {
  const std::string& named = call.params[1];
  for (const auto& host : TRY(ops::list_domains(call.context, app.name))) {
    if (host == named || domain_id(app, host) == named) {
      return host;
    }
  }
  return std::nullopt;
}

Expected<Response> list_domains(Call& call) {
  auto app = TRY(app_param(call));
  auto range = TRY(call.range(std::array<std::string_view, 2>{"id", "hostname"}));
  auto hosts = TRY(ops::list_domains(call.context, app.name));
  auto value = [&](const std::string& host) {
    return range.field == "id" ? domain_id(app, host) : host;
  };
  return page_response<std::string>(
      paginate<std::string>(std::move(hosts), range, value), range,
      [&](const std::string& host) { return domain_json(call.context.config, app, host); }, value);
}

Expected<Response> show_domain(Call& call) {
  auto app = TRY(app_param(call));
  auto host = TRY(domain_param(call, app));
  if (!host) {
    return fail_as(ErrorKind::not_found, "'{}' is not a domain of {}",
                   call.params[1].substr(0, 253), app.name);
  }
  return json_response(domain_json(call.context.config, app, *host));
}

Expected<Response> add_domain(Call& call) {
  auto app = TRY(app_param(call));
  auto body = TRY(call.body());
  auto host = TRY(string_member(body, "hostname"));
  if (!host) {
    return usage_error("'hostname' is required");
  }
  auto added = TRY(ops::add_domain(call.context, {.app = app.name, .host = *host}));
  return json_response(domain_json(call.context.config, app, added), http::status::created);
}

Expected<Response> remove_domain(Call& call) {
  auto app = TRY(app_param(call));
  // A name it has not is given as it is: remove_domain says what is wrong with it.
  auto host = TRY(domain_param(call, app)).value_or(call.params[1]);
  auto removed = TRY(ops::remove_domain(call.context, {.app = app.name, .host = host}));
  return json_response(domain_json(call.context.config, app, removed));
}

Expected<Response> list_collaborators(Call& call) {
  auto app = TRY(app_param(call));
  auto access = TRY(ops::app_access(call.context, app.name));
  json out = json::array();
  for (const auto& key : access.admins) {
    out.push_back(collaborator_json(call.context.layout, call.context.config, app, key, true));
  }
  for (const auto& key : access.collaborators) {
    out.push_back(collaborator_json(call.context.layout, call.context.config, app, key, false));
  }
  return json_response(out);
}

// The key a collaborator request names: an email, a key's name, or a collaborator's id.
Expected<std::string> collaborator_key(const Call& call, const ops::AppRef& app,
                                       const std::string& named) {
  if (is_uuid(named)) {
    auto access = TRY(ops::app_access(call.context, app.name));
    for (const auto& key : access.collaborators) {
      if (collaborator_id(app, key) == named) {
        return key;
      }
    }
    return fail_as(ErrorKind::not_found, "no collaborator of {} has the id '{}'", app.name, named);
  }
  return named;
}

Expected<Response> add_collaborator(Call& call) {
  auto app = TRY(app_param(call));
  auto body = TRY(call.body());
  auto user = TRY(string_member(body, "user"));
  if (!user) {
    return usage_error("'user' is required: the collaborator's email or key name");
  }
  auto key = TRY(ops::grant_access(call.context, {.app = app.name, .key = *user}));
  return json_response(collaborator_json(call.context.layout, call.context.config, app, key, false),
                       http::status::created);
}

Expected<Response> remove_collaborator(Call& call) {
  auto app = TRY(app_param(call));
  auto named = TRY(collaborator_key(call, app, call.params[1]));
  auto key = TRY(ops::revoke_access(call.context, {.app = app.name, .key = named}));
  return json_response(
      collaborator_json(call.context.layout, call.context.config, app, key, false));
}

// What slipway has none of, for an app the actor may use: an empty list.
Expected<Response> none(Call& call) {
  TRY(app_param(call));
  return json_response(json::array());
}

} // namespace

Expected<ops::AppRef> app_param(const Call& call) {
  return ops::find_app(call.context, call.params.at(0));
}

std::string owner_for(const ops::Context& context) {
  if (context.actor.admin) {
    return context.actor.name;
  }
  for (const auto& key : list_keys(context.layout)) {
    if (key.admin) {
      return key.name;
    }
  }
  return "admin";
}

void add_app_routes(std::vector<Route>& routes) {
  routes.push_back({http::verb::get, "/apps", list_apps});
  routes.push_back({http::verb::get, "/users/~/apps", list_apps});
  routes.push_back({http::verb::post, "/apps", create_app});
  routes.push_back({http::verb::get, "/apps/{}", show_app});
  routes.push_back({http::verb::patch, "/apps/{}", update_app});
  routes.push_back({http::verb::delete_, "/apps/{}", destroy_app});
  routes.push_back({http::verb::get, "/apps/{}/domains", list_domains});
  routes.push_back({http::verb::post, "/apps/{}/domains", add_domain});
  routes.push_back({http::verb::get, "/apps/{}/domains/{}", show_domain});
  routes.push_back({http::verb::delete_, "/apps/{}/domains/{}", remove_domain});
  routes.push_back({http::verb::get, "/apps/{}/collaborators", list_collaborators});
  routes.push_back({http::verb::post, "/apps/{}/collaborators", add_collaborator});
  routes.push_back({http::verb::delete_, "/apps/{}/collaborators/{}", remove_collaborator});
  routes.push_back({http::verb::get, "/apps/{}/addons", none});
  routes.push_back({http::verb::get, "/apps/{}/sni-endpoints", none});
}

} // namespace slipway::api
