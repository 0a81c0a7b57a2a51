// Review apps through the Platform API, in Heroku's shapes: a pipeline's review-app config
// (GET, POST and PATCH enable or change it, DELETE disables it), its review apps, one by id
// (the app's id) or by its app, a new one from a branch, one destroyed. And what the heroku
// CLI's reviewapps:enable and :disable ask before that, so that they never reach for GitHub:
// the account feature `dashboard-repositories-api` is on, and a pipeline's repository is
// its review parent's (the app whose branches get review apps).
#include "api/endpoints.hpp"
#include "common/output.hpp"
#include "common/random.hpp"
#include "ops/apps.hpp"
#include "ops/pipelines.hpp"
#include "ops/review_apps.hpp"
#include "runtime/review_apps.hpp"

namespace slipway::api {

namespace {

using nlohmann::json;

constexpr std::string_view k_repositories_feature = "dashboard-repositories-api";

json config_json(const Pipeline& pipeline, const std::optional<PipelineMember>& parent) {
  const ReviewAppsSettings settings = pipeline.review_apps.value_or(ReviewAppsSettings{});
  bool waits = std::ranges::find(pipeline.wait_for_ci, Stage::review) != pipeline.wait_for_ci.end();
  return {{"pipeline_id", pipeline.id},
          {"repo", {{"id", parent ? json(parent->app_id) : json(nullptr)}}},
          {"automatic_review_apps", settings.autodeploy},
          {"destroy_stale_apps", settings.autodestroy},
          {"stale_days", settings.stale_days},
          {"max", settings.max},
          {"wait_for_ci", waits},
          {"base_name", pipeline.name},
          {"deploy_target", nullptr}};
}

json review_app_json(const ops::ReviewAppStatus& app) {
  return {
      {"id", app.app_id},
      {"app", {{"id", app.app_id}, {"name", app.app}}},
      {"branch", app.branch},
      {"pipeline", {{"id", app.pipeline_id}}},
      // A review app whose last deploy failed is errored, as Heroku says it.
      {"status", app.last_build == "failed" && app.status != "deleted" ? "errored" : app.status},
      {"message", app.message.empty() ? json(nullptr) : json(app.message)},
      {"error_status", app.last_build == "failed" ? json("build failed") : json(nullptr)},
      {"commit", app.commit},
      {"web_url", app.url},
      {"ci", app.ci.empty() ? json(nullptr) : json(app.ci)},
      {"created_at", format_time(app.pushed_at)},
      {"updated_at", format_time(app.pushed_at)},
      {"creator", nullptr},
      {"pr_number", app.pull_request > 0 ? json(app.pull_request) : json(nullptr)},
      {"fork_repo", nullptr},
      {"wait_for_ci", nullptr}};
}

Expected<std::optional<bool>> bool_member(const json& body, std::string_view name) {
  auto found = body.find(name);
  if (found == body.end() || found->is_null()) {
    return std::nullopt;
  }
  if (!found->is_boolean()) {
    return usage_error("'{}' must be true or false", name);
  }
  return found->get<bool>();
}

Expected<std::optional<int>> int_member(const json& body, std::string_view name) {
  auto found = body.find(name);
  if (found == body.end() || found->is_null()) {
    return std::nullopt;
  }
  if (!found->is_number_integer()) {
    return usage_error("'{}' must be a whole number", name);
  }
  auto value = found->get<long long>();
  if (value < 0 || value > 100000) {
    return usage_error("'{}' is out of range", name);
  }
  return static_cast<int>(value);
}

// The settings the body asks for, over `base`; members it does not know are refused.
Expected<ops::EnableReviewApps> settings_from(const Call& call, const Pipeline& pipeline,
                                              ReviewAppsSettings base, bool waits) {
  auto body = TRY(call.body());
  for (const auto& [member, value] : body.items()) {
    static constexpr std::array k_known = {"automatic_review_apps",
                                           "destroy_stale_apps",
                                           "stale_days",
                                           "max",
                                           "wait_for_ci",
                                           "pipeline",
                                           "repo",
                                           "deploy_target",
                                           "base_name"};
    if (std::ranges::find(k_known, member) == k_known.end()) {
      return usage_error("unknown member '{}' of a review-app config",
                         printable(member.substr(0, 64)));
    }
  }
  ops::EnableReviewApps request{.pipeline = pipeline.id, .settings = base, .wait_for_ci = waits};
  if (auto value = TRY(bool_member(body, "automatic_review_apps"))) {
    request.settings.autodeploy = *value;
  }
  if (auto value = TRY(bool_member(body, "destroy_stale_apps"))) {
    request.settings.autodestroy = *value;
  }
  if (auto value = TRY(bool_member(body, "wait_for_ci"))) {
    request.wait_for_ci = *value;
  }
  if (auto value = TRY(int_member(body, "stale_days"))) {
    request.settings.stale_days = *value;
  }
  if (auto value = TRY(int_member(body, "max"))) {
    request.settings.max = *value;
  }
  return request;
}

bool review_waits(const Pipeline& pipeline) {
  return std::ranges::find(pipeline.wait_for_ci, Stage::review) != pipeline.wait_for_ci.end();
}

Expected<Response> show_config(Call& call) {
  auto pipeline = TRY(ops::find_pipeline(call.context, call.params[0]));
  if (!pipeline.review_apps) {
    return fail_as(ErrorKind::not_found, "review apps are not enabled on {}", pipeline.name);
  }
  return json_response(config_json(pipeline, review_parent(call.context.layout, pipeline.id)));
}

// POST: enable with what the body says (the rest off); PATCH: change what it says (enabling
// them first when they were not).
Expected<Response> set_config(Call& call, bool patch) {
  auto pipeline = TRY(ops::find_pipeline(call.context, call.params[0]));
  bool keep = patch && pipeline.review_apps;
  auto request =
      TRY(settings_from(call, pipeline, keep ? *pipeline.review_apps : ReviewAppsSettings{},
                        keep && review_waits(pipeline)));
  auto changed = TRY(ops::enable_review_apps(call.context, request));
  return json_response(config_json(changed, review_parent(call.context.layout, changed.id)),
                       patch ? http::status::ok : http::status::created);
}

Expected<Response> create_config(Call& call) {
  return set_config(call, false);
}

Expected<Response> update_config(Call& call) {
  return set_config(call, true);
}

Expected<Response> delete_config(Call& call) {
  auto pipeline = TRY(ops::find_pipeline(call.context, call.params[0]));
  auto before = config_json(pipeline, review_parent(call.context.layout, pipeline.id));
  TRY(ops::disable_review_apps(call.context, pipeline.id));
  return json_response(before);
}

Expected<Response> list_review_apps(Call& call) {
  json out = json::array();
  for (const auto& app : TRY(ops::list_review_apps(call.context, call.params[0]))) {
    out.push_back(review_app_json(app));
  }
  return json_response(out);
}

Expected<Response> show_review_app(Call& call) {
  return json_response(review_app_json(TRY(ops::review_app(call.context, call.params[0]))));
}

Expected<Response> app_review_app(Call& call) {
  auto app = TRY(app_param(call));
  return json_response(review_app_json(TRY(ops::review_app(call.context, app.name))));
}

// POST /review-apps {"branch": B, "pipeline": ID}: the branch's review app from its head in
// the pipeline's repository (a source_blob is not fetched: the branch is on this server),
// made at once and deployed by a process of its own: `creating` until it is live.
Expected<Response> create_review_app(Call& call) {
  auto body = TRY(call.body());
  auto branch = TRY(string_member(body, "branch"));
  auto pipeline = TRY(string_member(body, "pipeline"));
  if (!branch || !pipeline) {
    return usage_error("'branch' and 'pipeline' are required: the branch of the pipeline's "
                       "repository to make a review app of");
  }
  auto made = TRY(ops::create_review_app(call.context, {.pipeline = *pipeline, .branch = *branch}));
  return json_response(review_app_json(made), http::status::created);
}

Expected<Response> destroy_review_app(Call& call) {
  auto app = TRY(ops::review_app(call.context, call.params[0]));
  TRY(ops::destroy_review_app(
      call.context,
      {.pipeline = app.pipeline_id, .branch = app.branch, .pull_request = app.pull_request}));
  app.status = "deleted";
  return json_response(review_app_json(app));
}

Expected<Response> show_feature(Call& call) {
  if (call.params[0] != k_repositories_feature) {
    return fail_as(ErrorKind::not_found, "no account feature '{}' here",
                   printable(call.params[0].substr(0, 64)));
  }
  return json_response(
      {{"id", derived_uuid("slipway-feature", k_repositories_feature)},
       {"name", k_repositories_feature},
       {"description", "A pipeline's repository is its review parent's, on this server"},
       {"enabled", true},
       {"state", "general"},
       {"display_name", "Pipeline repositories"},
       {"doc_url", ""},
       {"feedback_email", ""}});
}

// A pipeline's repository: its review parent's (the app whose branches get review apps).
Expected<Response> show_repository(Call& call) {
  auto pipeline = TRY(ops::find_pipeline(call.context, call.params[0]));
  auto parent = review_parent(call.context.layout, pipeline.id);
  if (!parent) {
    return fail_as(ErrorKind::not_found,
                   "pipeline {} has no development or staging app, so no repository",
                   pipeline.name);
  }
  return json_response({{"id", parent->app_id},
                        {"full_name", parent->app},
                        {"name", parent->app},
                        {"type", "slipway"},
                        {"app", {{"id", parent->app_id}, {"name", parent->app}}}});
}

// A branch of the pipeline's repository: 404 when there is none (reviewapps:create asks
// before it makes a review app).
Expected<Response> show_branch(Call& call) {
  auto head = TRY(ops::review_branch_head(call.context,
                                          {.pipeline = call.params[0], .branch = call.params[1]}));
  return json_response({{"name", call.params[1]}, {"commit", {{"sha", head}}}});
}

} // namespace

void add_review_app_routes(std::vector<Route>& routes) {
  routes.push_back({http::verb::get, "/account/features/{}", show_feature});
  routes.push_back({http::verb::get, "/pipelines/{}/repo", show_repository});
  routes.push_back({http::verb::get, "/pipelines/{}/repo/branches/{}", show_branch});
  routes.push_back({http::verb::get, "/pipelines/{}/review-app-config", show_config});
  routes.push_back({http::verb::post, "/pipelines/{}/review-app-config", create_config});
  routes.push_back({http::verb::patch, "/pipelines/{}/review-app-config", update_config});
  routes.push_back({http::verb::delete_, "/pipelines/{}/review-app-config", delete_config});
  routes.push_back({http::verb::get, "/pipelines/{}/review-apps", list_review_apps});
  routes.push_back({http::verb::post, "/review-apps", create_review_app});
  routes.push_back({http::verb::get, "/review-apps/{}", show_review_app});
  routes.push_back({http::verb::delete_, "/review-apps/{}", destroy_review_app});
  routes.push_back({http::verb::get, "/apps/{}/review-app", app_review_app});
}

} // namespace slipway::api
