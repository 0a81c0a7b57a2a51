// Pipelines (list with Heroku's eq[name] filter, create, info, rename, destroy), their
// couplings (an app's place and stage), promotions run in the background with their targets,
// and what the heroku CLI's pipelines:* commands also ask for: the apps of a list of ids
// (/filters/apps).
#include <algorithm>
#include <map>

#include "api/endpoints.hpp"
#include "api/shapes.hpp"
#include "common/output.hpp"
#include "ops/pipelines.hpp"
#include "ops/releases.hpp"

namespace slipway::api {

namespace {

using nlohmann::json;

// The id or name a body gives for a resource, as Heroku takes it: "X", {"id": "X"} or
// {"name": "X"}; nullopt when the member is absent. `path` names it in the error.
Expected<std::optional<std::string>> ref_member(const json& object, std::string_view member,
                                                std::string_view path) {
  auto found = object.find(member);
  if (found == object.end() || found->is_null()) {
    return std::nullopt;
  }
  if (found->is_string()) {
    return found->get<std::string>();
  }
  if (found->is_object()) {
    for (const char* key : {"id", "name"}) {
      if (auto value = found->find(key); value != found->end() && value->is_string()) {
        return value->get<std::string>();
      }
    }
  }
  return usage_error("'{}' must be an id or a name: {{\"id\": \"...\"}}", path);
}

Expected<Stage> stage_member(const json& body) {
  auto stage = TRY(string_member(body, "stage"));
  if (!stage) {
    return usage_error("'stage' is required: review, development, staging or production");
  }
  return parse_stage(*stage);
}

json pipeline_out(const Call& call, const Pipeline& pipeline) {
  return pipeline_json(call.context.layout, call.context.config, pipeline, owner_for(call.context));
}

// The value of the filter `eq[FIELD]` in the query, its brackets plain or escaped.
std::optional<std::string> eq_filter(const Call& call, std::string_view field) {
  for (auto form : {"eq[{}]", "eq%5B{}%5D", "eq%5b{}%5d"}) {
    if (auto value = call.query(fmt::format(fmt::runtime(form), field))) {
      return value;
    }
  }
  return std::nullopt;
}

Expected<Response> list_pipelines(Call& call) {
  auto range = TRY(call.range(std::array<std::string_view, 2>{"name", "id"}));
  auto pipelines = TRY(ops::list_pipelines(call.context));
  if (auto name = eq_filter(call, "name")) {
    std::erase_if(pipelines, [&](const Pipeline& pipeline) { return pipeline.name != *name; });
  }
  if (auto id = eq_filter(call, "id")) {
    std::erase_if(pipelines, [&](const Pipeline& pipeline) { return pipeline.id != *id; });
  }
  auto value = [&](const Pipeline& pipeline) {
    return range.field == "id" ? pipeline.id : pipeline.name;
  };
  return page_response<Pipeline>(
      paginate<Pipeline>(std::move(pipelines), range, value), range,
      [&](const Pipeline& pipeline) { return pipeline_out(call, pipeline); }, value);
}

Expected<Response> create_pipeline(Call& call) {
  auto body = TRY(call.body());
  auto name = TRY(string_member(body, "name"));
  if (!name) {
    return usage_error("'name' is required: the pipeline's name");
  }
  // slipway has users, not teams: a pipeline is its users' (shown as the apps' owner).
  if (auto owner = body.find("owner"); owner != body.end() && !owner->is_null()) {
    auto type = owner->is_object() ? owner->find("type") : owner->end();
    if (!owner->is_object() ||
        (type != owner->end() && !type->is_null() && *type != json("user"))) {
      return usage_error("'owner' must be a user ({{\"id\": ..., \"type\": \"user\"}}): this "
                         "server has no teams");
    }
  }
  if (auto generation = body.find("generation");
      generation != body.end() && !generation->is_null()) {
    json name_of = generation->is_object() ? generation->value("name", json()) : *generation;
    if (!name_of.is_null() && name_of != json("cedar")) {
      return usage_error("'generation' must be cedar: this server's apps run as cedar's do");
    }
  }
  auto pipeline = TRY(ops::create_pipeline(call.context, {.name = *name}));
  return json_response(pipeline_out(call, pipeline), http::status::created);
}

Expected<Response> show_pipeline(Call& call) {
  return json_response(pipeline_out(call, TRY(ops::find_pipeline(call.context, call.params[0]))));
}

Expected<Response> update_pipeline(Call& call) {
  auto body = TRY(call.body());
  for (const auto& [member, value] : body.items()) {
    if (member != "name") {
      return usage_error("cannot change '{}' of a pipeline (name)", member.substr(0, 64));
    }
  }
  auto name = TRY(string_member(body, "name"));
  if (!name) {
    return usage_error("'name' is required: the pipeline's new name");
  }
  auto renamed = TRY(ops::rename_pipeline(call.context, {.pipeline = call.params[0], .to = *name}));
  return json_response(pipeline_out(call, renamed));
}

Expected<Response> destroy_pipeline(Call& call) {
  return json_response(
      pipeline_out(call, TRY(ops::destroy_pipeline(call.context, call.params[0]))));
}

// The couplings and the pipelines they name, for printing them.
Expected<json> couplings_json(const Call& call, const std::vector<PipelineMember>& couplings) {
  std::map<std::string, Pipeline> pipelines;
  for (auto& pipeline : TRY(ops::list_pipelines(call.context))) {
    pipelines.emplace(pipeline.id, std::move(pipeline));
  }
  json out = json::array();
  for (const auto& member : couplings) {
    auto pipeline = pipelines.find(member.coupling.pipeline);
    out.push_back(coupling_json(member, pipeline != pipelines.end()
                                            ? pipeline->second
                                            : Pipeline{.id = member.coupling.pipeline}));
  }
  return out;
}

Expected<Response> list_pipeline_couplings(Call& call) {
  return json_response(
      TRY(couplings_json(call, TRY(ops::list_couplings(call.context, call.params[0])))));
}

Expected<Response> list_couplings(Call& call) {
  return json_response(TRY(couplings_json(call, TRY(ops::list_couplings(call.context, "")))));
}

// The coupling the path names by its id, among those the actor may see.
Expected<PipelineMember> coupling_param(const Call& call) {
  for (auto& member : TRY(ops::list_couplings(call.context, ""))) {
    if (member.coupling.id == call.params[0]) {
      return std::move(member);
    }
  }
  return fail_as(ErrorKind::not_found, "pipeline coupling '{}' does not exist",
                 printable(call.params[0].substr(0, 64)));
}

Expected<json> coupling_out(const Call& call, const PipelineMember& member) {
  return coupling_json(member, TRY(ops::find_pipeline(call.context, member.coupling.pipeline)));
}

Expected<Response> show_coupling(Call& call) {
  return json_response(TRY(coupling_out(call, TRY(coupling_param(call)))));
}

Expected<Response> create_coupling(Call& call) {
  auto body = TRY(call.body());
  auto app = TRY(ref_member(body, "app", "app"));
  auto pipeline = TRY(ref_member(body, "pipeline", "pipeline"));
  if (!app) {
    return usage_error("'app' is required: the app to add to the pipeline");
  }
  if (!pipeline) {
    return usage_error("'pipeline' is required: the id of the pipeline to add '{}' to",
                       printable(app->substr(0, 64)));
  }
  Stage stage = TRY(stage_member(body));
  auto ref = TRY(ops::find_app(call.context, *app));
  auto member = TRY(
      ops::add_to_pipeline(call.context, {.pipeline = *pipeline, .app = ref.name, .stage = stage}));
  return json_response(TRY(coupling_out(call, member)), http::status::created);
}

Expected<Response> update_coupling(Call& call) {
  auto body = TRY(call.body());
  for (const auto& [member, value] : body.items()) {
    if (member != "stage") {
      return usage_error("cannot change '{}' of a pipeline coupling (stage)", member.substr(0, 64));
    }
  }
  Stage stage = TRY(stage_member(body));
  auto coupling = TRY(coupling_param(call));
  auto moved = TRY(ops::update_coupling(call.context, {.app = coupling.app, .stage = stage}));
  return json_response(TRY(coupling_out(call, moved)));
}

Expected<Response> destroy_coupling(Call& call) {
  auto coupling = TRY(coupling_param(call));
  auto pipeline = TRY(ops::find_pipeline(call.context, coupling.coupling.pipeline));
  auto removed = TRY(ops::remove_from_pipeline(call.context, coupling.app));
  return json_response(coupling_json(removed, pipeline));
}

// GET /apps/{app}/pipeline-couplings: the app's coupling, or 404 when it is in no pipeline
// (the heroku CLI's apps:info takes that as "none").
Expected<Response> app_coupling(Call& call) {
  auto app = TRY(app_param(call));
  auto member = TRY(ops::app_coupling(call.context, app.name));
  if (!member) {
    return fail_as(ErrorKind::not_found, "app '{}' is not in a pipeline", app.name);
  }
  return json_response(TRY(coupling_out(call, *member)));
}

// POST /filters/apps {"in": {"id": [...]}}: those of the apps the actor may use (the others
// are left out), as /apps shows them.
Expected<Response> filter_apps(Call& call) {
  auto range = TRY(call.range(std::array<std::string_view, 2>{"id", "name"}));
  auto body = TRY(call.body());
  const json* ids = nullptr;
  if (auto in = body.find("in"); in != body.end() && in->is_object() && in->contains("id")) {
    ids = &(*in)["id"];
  }
  if (!ids || !ids->is_array() ||
      !std::ranges::all_of(*ids, [](const json& id) { return id.is_string(); })) {
    return usage_error("the filter must be {{\"in\": {{\"id\": [APP_ID, ...]}}}}");
  }
  std::vector<ops::AppSummary> apps;
  for (const auto& id : *ids) {
    auto app = ops::find_app(call.context, id.get<std::string>());
    if (!app &&
        (app.error().kind == ErrorKind::not_found || app.error().kind == ErrorKind::forbidden ||
         app.error().kind == ErrorKind::usage)) {
      continue;
    }
    auto summary = TRY(ops::app_summary(call.context, TRY(std::move(app)).name));
    if (std::ranges::find(apps, summary.id, &ops::AppSummary::id) == apps.end()) {
      apps.push_back(std::move(summary));
    }
  }
  auto value = [&](const ops::AppSummary& app) { return range.field == "id" ? app.id : app.name; };
  std::string owner = owner_for(call.context);
  return page_response<ops::AppSummary>(
      paginate<ops::AppSummary>(std::move(apps), range, value), range,
      [&](const ops::AppSummary& app) {
        return app_json(call.context.layout, call.context.config, app, owner);
      },
      value);
}

// The version of the source's release a promotion names by id ({"release": {"id": ...}}).
Expected<int> release_version(const Call& call, const ops::AppRef& app, const std::string& id) {
  auto list = TRY(ops::list_releases(call.context, {.app = app.name, .count = 0}));
  for (const auto& details : list.releases) {
    if (release_id(app, details.release.version) == id) {
      return details.release.version;
    }
  }
  return fail_as(ErrorKind::not_found, "{} has no release '{}'", app.name,
                 printable(id.substr(0, 64)));
}

// POST /pipeline-promotions {"pipeline": {"id"}, "source": {"app": {"id"}}, "targets":
// [{"app": {"id"}}]}: the promotion is recorded here and run by a process of its own, so that
// it outlives the request; the heroku CLI polls its targets.
Expected<Response> create_promotion(Call& call) {
  auto body = TRY(call.body());
  auto source = body.find("source");
  if (source == body.end() || !source->is_object()) {
    return usage_error("'source' is required: {{\"app\": {{\"id\": APP_ID}}}}");
  }
  auto source_app = TRY(ref_member(*source, "app", "source.app"));
  if (!source_app) {
    return usage_error("'source.app' is required: the app to promote from");
  }
  auto app = TRY(ops::find_app(call.context, *source_app));
  ops::Promote request{.app = app.name};
  if (auto release = TRY(ref_member(*source, "release", "source.release"))) {
    request.version = TRY(release_version(call, app, *release));
  }
  if (auto targets = body.find("targets"); targets != body.end() && !targets->is_null()) {
    if (!targets->is_array()) {
      return usage_error("'targets' must be a list: [{{\"app\": {{\"id\": APP_ID}}}}, ...]");
    }
    for (const auto& target : *targets) {
      auto named = target.is_object() ? TRY(ref_member(target, "app", "targets[].app"))
                                      : std::optional<std::string>();
      if (!named) {
        return usage_error("each of 'targets' must name an app: {{\"app\": {{\"id\": APP_ID}}}}");
      }
      request.to.push_back(*named);
    }
  }
  // The pipeline, when named, must be the source's (its couplings say which).
  if (auto pipeline = TRY(ref_member(body, "pipeline", "pipeline"))) {
    auto named = TRY(ops::find_pipeline(call.context, *pipeline));
    auto coupling = TRY(ops::app_coupling(call.context, app.name));
    if (coupling && coupling->coupling.pipeline != named.id) {
      return usage_error("app '{}' is not in pipeline '{}'", app.name, named.name);
    }
  }
  auto promotion = TRY(ops::start_promotion(call.context, request));
  if (auto spawned = ops::spawn_promotion(call.context, promotion.id); !spawned) {
    // Recorded but never claimed: a reader settles it as failed after a while.
    return fail_as(ErrorKind::unavailable, "promotion {} could not start: {}", promotion.id,
                   spawned.error().message);
  }
  return json_response(promotion_json(promotion), http::status::created);
}

Expected<Response> show_promotion(Call& call) {
  return json_response(promotion_json(TRY(ops::promotion(call.context, call.params[0]))));
}

Expected<Response> promotion_targets(Call& call) {
  auto promotion = TRY(ops::promotion(call.context, call.params[0]));
  json out = json::array();
  for (const auto& target : promotion.targets) {
    out.push_back(promotion_target_json(promotion, target));
  }
  return json_response(out);
}

} // namespace

void add_pipeline_routes(std::vector<Route>& routes) {
  routes.push_back({http::verb::get, "/pipelines", list_pipelines});
  routes.push_back({http::verb::post, "/pipelines", create_pipeline});
  routes.push_back({http::verb::get, "/pipelines/{}", show_pipeline});
  routes.push_back({http::verb::patch, "/pipelines/{}", update_pipeline});
  routes.push_back({http::verb::delete_, "/pipelines/{}", destroy_pipeline});
  routes.push_back({http::verb::get, "/pipelines/{}/pipeline-couplings", list_pipeline_couplings});
  routes.push_back({http::verb::get, "/pipeline-couplings", list_couplings});
  routes.push_back({http::verb::post, "/pipeline-couplings", create_coupling});
  routes.push_back({http::verb::get, "/pipeline-couplings/{}", show_coupling});
  routes.push_back({http::verb::patch, "/pipeline-couplings/{}", update_coupling});
  routes.push_back({http::verb::delete_, "/pipeline-couplings/{}", destroy_coupling});
  routes.push_back({http::verb::get, "/apps/{}/pipeline-couplings", app_coupling});
  routes.push_back({http::verb::post, "/filters/apps", filter_apps});
  routes.push_back({http::verb::post, "/pipeline-promotions", create_promotion});
  routes.push_back({http::verb::get, "/pipeline-promotions/{}", show_promotion});
  routes.push_back(
      {http::verb::get, "/pipeline-promotions/{}/promotion-targets", promotion_targets});
}

} // namespace slipway::api
