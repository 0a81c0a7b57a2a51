// Processes: the formation (list, batch PATCH, PATCH one type, stop a type), dynos (list,
// info, restart all, a type or one, stop, and `run:detached`), and log sessions with their
// signed stream (server-sent events, as Heroku's log stream).
#include <charconv>

#include "api/endpoints.hpp"
#include "api/shapes.hpp"
#include "common/random.hpp"
#include "ops/history.hpp"
#include "ops/processes.hpp"

namespace slipway::api {

namespace {

using nlohmann::json;

constexpr auto k_log_session_valid_for = std::chrono::minutes(5);
constexpr long k_max_log_lines = 10000;

Expected<std::string> size_of(const Call& call, const ops::AppRef& app) {
  return size_name(TRY(ops::process_size(call.context, app.name)));
}

Expected<Response> list_formation(Call& call) {
  auto app = TRY(app_param(call));
  auto size = TRY(size_of(call, app));
  json out = json::array();
  for (const auto& entry : TRY(ops::formation(call.context, app.name))) {
    out.push_back(formation_json(app, entry, size));
  }
  return json_response(out);
}

// The formation entries of `types` (all when empty), as they are now.
Expected<json> formation_of(const Call& call, const ops::AppRef& app,
                            const std::vector<std::string>& types) {
  auto size = TRY(size_of(call, app));
  json out = json::array();
  for (const auto& entry : TRY(ops::formation(call.context, app.name))) {
    if (types.empty() || std::ranges::find(types, entry.type) != types.end()) {
      out.push_back(formation_json(app, entry, size));
    }
  }
  return out;
}

// A formation type as the path names it: its name, or its id.
Expected<std::string> formation_type(const Call& call, const ops::AppRef& app) {
  const std::string& named = call.params[1];
  for (const auto& entry : TRY(ops::formation(call.context, app.name))) {
    if (entry.type == named || formation_id(app, entry.type) == named) {
      return entry.type;
    }
  }
  return fail_as(ErrorKind::not_found, "{} has no process type '{}'", app.name,
                 named.substr(0, 64));
}

Expected<Response> show_formation(Call& call) {
  auto app = TRY(app_param(call));
  auto type = TRY(formation_type(call, app));
  auto entries = TRY(formation_of(call, app, {type}));
  return json_response(entries.at(0));
}

// One change of a formation PATCH: {"type": "web", "quantity": 2}; the heroku CLI sends the
// quantity as a string, "2", or relative, "+1" and "-1". A size other than the one every
// process runs at is refused; the size alone (`heroku ps:type SIZE`) changes nothing.
Expected<std::optional<ops::ScaleChange>> scale_change(const json& update, const std::string& type,
                                                       const std::string& size) {
  if (!update.is_object()) {
    return usage_error("each update is an object: {{\"type\": \"web\", \"quantity\": 2}}");
  }
  auto wanted = update.find("size");
  if (wanted != update.end() && !wanted->is_null() && *wanted != size) {
    return usage_error("every process here runs at one size, {} ([runtime] memory in "
                       "slipway.toml); '{}' is not available",
                       size, wanted->is_string() ? wanted->get<std::string>().substr(0, 32) : "");
  }
  auto quantity = update.find("quantity");
  if (quantity == update.end() || quantity->is_null()) {
    if (wanted != update.end() && !wanted->is_null()) {
      return std::nullopt; // the size it has already
    }
    return usage_error("'quantity' is required");
  }
  std::string text;
  if (quantity->is_number_integer()) {
    text = std::to_string(quantity->get<long>());
  } else if (quantity->is_string()) {
    text = quantity->get<std::string>();
  } else {
    return usage_error("'quantity' must be a number of processes");
  }
  // As `ps:scale` reads TYPE=N, TYPE+N and TYPE-N: the one rule for both.
  bool relative = text.starts_with('+') || text.starts_with('-');
  return std::optional(TRY(ops::parse_scale_change(type + (relative ? "" : "=") + text)));
}

Expected<Response> update_formation(Call& call) {
  auto app = TRY(app_param(call));
  auto body = TRY(call.body());
  auto size = TRY(size_of(call, app));
  auto updates = body.find("updates");
  if (updates == body.end() || !updates->is_array() || updates->empty()) {
    return usage_error("'updates' is required: [{{\"type\": \"web\", \"quantity\": 2}}, ...]");
  }
  ops::Scale scale{.app = app.name};
  std::vector<std::string> types;
  for (const auto& update : *updates) {
    auto type = update.is_object() ? update.find("type") : update.end();
    if (type == update.end() || !type->is_string()) {
      return usage_error("each update names its process 'type'");
    }
    if (auto change = TRY(scale_change(update, type->get<std::string>(), size))) {
      scale.changes.push_back(std::move(*change));
    }
    types.push_back(type->get<std::string>());
  }
  if (!scale.changes.empty()) {
    TRY(ops::scale(call.context, scale));
  }
  return json_response(TRY(formation_of(call, app, types)));
}

Expected<Response> update_one_formation(Call& call) {
  auto app = TRY(app_param(call));
  auto body = TRY(call.body());
  auto size = TRY(size_of(call, app));
  const std::string& type = call.params[1];
  if (auto change = TRY(scale_change(body, type, size))) {
    TRY(ops::scale(call.context, {.app = app.name, .changes = {std::move(*change)}}));
  }
  return json_response(TRY(formation_of(call, app, {type})).at(0));
}

Expected<Response> stop_formation(Call& call) {
  auto app = TRY(app_param(call));
  auto type = TRY(formation_type(call, app));
  TRY(ops::restart(call.context, {.app = app.name, .target = type, .stop = true}));
  return json_response(json::object(), http::status::accepted);
}

// DELETE /apps/{app}/formations/{type} (`heroku ps:restart -p TYPE`): its processes restart.
Expected<Response> restart_formation(Call& call) {
  auto app = TRY(app_param(call));
  auto type = TRY(formation_type(call, app));
  TRY(ops::restart(call.context, {.app = app.name, .target = type}));
  return json_response(json::object(), http::status::accepted);
}

Expected<Response> list_dynos(Call& call) {
  auto app = TRY(app_param(call));
  auto size = TRY(size_of(call, app));
  json out = json::array();
  for (const auto& process : TRY(ops::list_processes(call.context, app.name))) {
    out.push_back(dyno_json(app, process, size));
  }
  return json_response(out);
}

// What a dyno path names: a process ("web.1", or its id), a type ("web"), as ps:restart takes.
Expected<std::string> dyno_target(const Call& call, const ops::AppRef& app) {
  const std::string& named = call.params[1];
  for (const auto& process : TRY(ops::list_processes(call.context, app.name))) {
    if (dyno_id(app, process.name) == named) {
      return process.name;
    }
  }
  return named;
}

Expected<Response> show_dyno(Call& call) {
  auto app = TRY(app_param(call));
  auto target = TRY(dyno_target(call, app));
  auto size = TRY(size_of(call, app));
  for (const auto& process : TRY(ops::list_processes(call.context, app.name))) {
    if (process.name == target) {
      return json_response(dyno_json(app, process, size));
    }
  }
  return fail_as(ErrorKind::not_found, "{} has no process '{}'", app.name, target.substr(0, 64));
}

Expected<Response> restart_dynos(Call& call) {
  auto app = TRY(app_param(call));
  std::string target = call.params.size() > 1 ? TRY(dyno_target(call, app)) : "";
  TRY(ops::restart(call.context, {.app = app.name, .target = target}));
  return json_response(json::object(), http::status::accepted);
}

Expected<Response> stop_dyno(Call& call) {
  auto app = TRY(app_param(call));
  auto target = TRY(dyno_target(call, app));
  TRY(ops::restart(call.context, {.app = app.name, .target = target, .stop = true}));
  return json_response(json::object(), http::status::accepted);
}

// POST /apps/{app}/dynos: a one-off process. Detached (`heroku run:detached`) it runs with
// its output in the app log; attached (`heroku run`) needs Heroku's rendezvous service,
// which slipway does not speak: the answer says what to use instead.
Expected<Response> run_dyno(Call& call) {
  auto app = TRY(app_param(call));
  auto body = TRY(call.body());
  auto command = TRY(string_member(body, "command"));
  if (!command || command->empty()) {
    return usage_error("'command' is required");
  }
  auto attach = body.find("attach");
  if (attach == body.end() || !attach->is_boolean() || attach->get<bool>()) {
    return usage_error(
        "slipway does not serve attached one-off processes over the Platform API (Heroku's "
        "rendezvous). Run it detached, with its output in the log: heroku run:detached -a {0} "
        "-- COMMAND; or attached over ssh: ssh git@SERVER run -a {0} -- COMMAND",
        app.name);
  }
  ops::RunOneOff request{.app = app.name, .command = {*command}};
  if (auto env = body.find("env"); env != body.end() && !env->is_null()) {
    if (!env->is_object()) {
      return usage_error("'env' must be an object of names and values");
    }
    for (const auto& [name, value] : env->items()) {
      if (!value.is_string()) {
        return usage_error("env {} must be a string", name.substr(0, 64));
      }
      // TERM and the like describe the caller's terminal, which a detached process has not.
      if (name != "TERM" && name != "COLUMNS" && name != "LINES") {
        request.env.emplace_back(name, value.get<std::string>());
      }
    }
  }
  auto name = TRY(ops::run_detached(call.context, request));
  control::ProcessStatus process{.name = name,
                                 .type = "run",
                                 .state = "up",
                                 .command = *command,
                                 .started_at = format_time(std::chrono::system_clock::now())};
  if (auto live = ops::release_details(call.context, {.app = app.name})) {
    process.release = live->release.version;
  }
  return json_response(dyno_json(app, process, TRY(size_of(call, app))), http::status::created);
}

// POST /apps/{app}/log-sessions {"lines", "tail", "dyno", "source"}: a URL that streams them.
Expected<Response> create_log_session(Call& call) {
  auto app = TRY(app_param(call));
  auto body = TRY(call.body());
  long lines = 100;
  if (auto given = body.find("lines"); given != body.end() && !given->is_null()) {
    if (!given->is_number_integer() || given->get<long>() < 0 ||
        given->get<long>() > k_max_log_lines) {
      return usage_error("'lines' must be a number from 0 to {}", k_max_log_lines);
    }
    lines = given->get<long>();
  }
  bool tail = false;
  if (auto given = body.find("tail"); given != body.end() && !given->is_null()) {
    if (!given->is_boolean()) {
      return usage_error("'tail' must be true or false");
    }
    tail = given->get<bool>();
  }
  LogFilter filter{.source = TRY(string_member(body, "source")).value_or(""),
                   .process = TRY(string_member(body, "dyno")).value_or("")};
  if (filter.source == "heroku") {
    filter.source = "slipway"; // the platform's own lines
  }
  // The right and the filter, checked now: the stream checks them again.
  TRY(ops::read_log(call.context, {.app = app.name, .count = 1, .filter = filter}));
  std::string query = fmt::format("/streams/logs/{}?key={}&lines={}&tail={}", app.name,
                                  call.context.actor.name, lines, tail ? 1 : 0);
  if (!filter.source.empty()) {
    query += "&source=" + filter.source;
  }
  if (!filter.process.empty()) {
    query += "&dyno=" + filter.process;
  }
  std::string id = TRY(random_uuid());
  std::string now = format_time(std::chrono::system_clock::now());
  return json_response(
      {{"id", id},
       {"logplex_url", call.base_url + call.signer.sign(query, k_log_session_valid_for)},
       {"created_at", now},
       {"updated_at", now}},
      http::status::created);
}

// The log session's stream: the last lines, then (tail) each new one, as server-sent events.
Expected<Response> stream_log(Call& call) {
  auto app = TRY(app_param(call));
  long lines = 100; // (the URL is signed: its values are the ones create_log_session checked)
  std::string given = call.query("lines").value_or("100");
  std::from_chars(given.data(), given.data() + given.size(), lines);
  bool tail = call.query("tail") == "1";
  LogFilter filter{.source = call.query("source").value_or(""),
                   .process = call.query("dyno").value_or("")};
  auto last = TRY(ops::read_log(
      call.context, {.app = app.name, .count = static_cast<std::size_t>(lines), .filter = filter}));
  Response response{.content_type = "text/event-stream; charset=utf-8"};
  response.stream = [context = call.context, app, filter, tail, last = std::move(last)](
                        const StreamWriter& write, const std::atomic<bool>& stop) {
    auto event = [&](std::string_view line) { return write(fmt::format("data: {}\n\n", line)); };
    for (const auto& line : last) {
      if (!event(line)) {
        return;
      }
    }
    if (!tail) {
      return;
    }
    // A failed write means the client is gone: the server notices as well and sets `stop`.
    bool writing = true;
    (void)ops::follow_log(
        context, app.name, [&](std::string_view line) { writing = writing && event(line); }, stop,
        filter);
  };
  return response;
}

} // namespace

void add_process_routes(std::vector<Route>& routes) {
  routes.push_back({http::verb::get, "/apps/{}/formation", list_formation});
  routes.push_back({http::verb::patch, "/apps/{}/formation", update_formation});
  routes.push_back({http::verb::get, "/apps/{}/formation/{}", show_formation});
  routes.push_back({http::verb::patch, "/apps/{}/formation/{}", update_one_formation});
  routes.push_back({http::verb::delete_, "/apps/{}/formations/{}", restart_formation});
  routes.push_back({http::verb::post, "/apps/{}/formations/{}/actions/stop", stop_formation});
  routes.push_back({http::verb::get, "/apps/{}/dynos", list_dynos});
  routes.push_back({http::verb::post, "/apps/{}/dynos", run_dyno});
  routes.push_back({http::verb::delete_, "/apps/{}/dynos", restart_dynos});
  routes.push_back({http::verb::get, "/apps/{}/dynos/{}", show_dyno});
  routes.push_back({http::verb::delete_, "/apps/{}/dynos/{}", restart_dynos});
  routes.push_back({http::verb::post, "/apps/{}/dynos/{}/actions/stop", stop_dyno});
  routes.push_back({http::verb::post, "/apps/{}/log-sessions", create_log_session});
  routes.push_back({http::verb::get, "/streams/logs/{}", stream_log, true});
}

} // namespace slipway::api
