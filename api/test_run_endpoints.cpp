// Heroku CI's test runs: a pipeline's runs (a list with Range by number, one by its number),
// a run by its id and its nodes, a new run of a commit (what `heroku ci:rerun` posts), and
// the signed streams of a run's setup (build.log) and of a node's output (node-I.log).
#include <charconv>
#include <thread>

#include "api/endpoints.hpp"
#include "api/shapes.hpp"
#include "common/output.hpp"
#include "common/random.hpp"
#include "ops/pipelines.hpp"
#include "ops/test_runs.hpp"

namespace slipway::api {

namespace {

using nlohmann::json;

constexpr auto k_stream_valid_for = std::chrono::hours(1);

std::optional<int> run_number(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1) {
    return std::nullopt;
  }
  return value;
}

// The signed URL of a run's stream: `what` is "setup" (the build's log) or a node's index.
std::string stream_url(const Call& call, const TestRun& run, const std::string& what) {
  return call.base_url + call.signer.sign(fmt::format("/streams/test-runs/{}/{}?key={}", run.number,
                                                      what, call.context.actor.name),
                                          k_stream_valid_for);
}

json run_out(const Call& call, const TestRun& run) {
  return test_run_json(call.context.layout, call.context.config, run);
}

Expected<Response> list_runs(Call& call) {
  auto range = TRY(call.range(std::array<std::string_view, 2>{"number", "id"}));
  auto pipeline = TRY(ops::find_pipeline(call.context, call.params[0]));
  auto runs = TRY(ops::list_test_runs(call.context, "", pipeline.id, 0));
  auto key = [&](const TestRun& run) {
    return range.field == "id" ? run.id : std::to_string(run.number);
  };
  return page_response<TestRun>(
      paginate<TestRun>(std::move(runs), range, key), range,
      [&](const TestRun& run) { return run_out(call, run); }, key);
}

// Run `named` (its number) of the pipeline the path names.
Expected<TestRun> pipeline_run(const Call& call) {
  auto pipeline = TRY(ops::find_pipeline(call.context, call.params[0]));
  auto number = run_number(call.params[1]);
  if (!number) {
    return usage_error("'{}' is not a test run's number", printable(call.params[1].substr(0, 64)));
  }
  auto run = TRY(ops::test_run(call.context, *number));
  if (run.pipeline_id != pipeline.id) {
    return fail_as(ErrorKind::not_found, "pipeline '{}' has no test run #{}", pipeline.name,
                   *number);
  }
  return run;
}

Expected<Response> show_pipeline_run(Call& call) {
  return json_response(run_out(call, TRY(pipeline_run(call))));
}

// The run the path names by its id (or, as slipway's CLI does, its number), among those of
// the apps the actor may use.
Expected<TestRun> run_param(const Call& call) {
  const std::string& named = call.params[0];
  if (auto number = run_number(named)) {
    return ops::test_run(call.context, *number);
  }
  if (!is_uuid(named)) {
    return usage_error("'{}' is not a test run's id", printable(named.substr(0, 64)));
  }
  for (const auto& app : TRY(ops::list_apps(call.context))) {
    auto runs = ops::list_test_runs(call.context, app, "", 0);
    if (!runs) {
      continue; // gone, or not the actor's, since the list was made
    }
    for (auto& run : *runs) {
      if (run.id == named) {
        return std::move(run);
      }
    }
  }
  return fail_as(ErrorKind::not_found, "test run '{}' does not exist", named);
}

Expected<Response> show_run(Call& call) {
  return json_response(run_out(call, TRY(run_param(call))));
}

Expected<Response> list_nodes(Call& call) {
  auto run = TRY(run_param(call));
  json out = json::array();
  std::string setup = stream_url(call, run, "setup");
  for (const auto& node : run.nodes) {
    out.push_back(
        test_node_json(run, node, stream_url(call, run, std::to_string(node.index)), setup));
  }
  return json_response(out);
}

// POST /test-runs {"pipeline": ID, "commit_sha": SHA, "commit_branch": ...}: a new run of the
// commit, as `heroku ci:rerun` asks: again of the app of the pipeline's newest run of that
// commit, else of the first of the pipeline's apps whose repository has it; run by a process
// of its own. The source blob it names is not fetched: the commit is in the app's repository.
Expected<Response> create_run(Call& call) {
  auto body = TRY(call.body());
  auto pipeline_ref = TRY(string_member(body, "pipeline"));
  if (!pipeline_ref) {
    if (auto member = body.find("pipeline"); member != body.end() && member->is_object() &&
                                             member->contains("id") &&
                                             (*member)["id"].is_string()) {
      pipeline_ref = (*member)["id"].get<std::string>();
    } else {
      return usage_error("'pipeline' is required: the id of the pipeline to test");
    }
  }
  auto commit = TRY(string_member(body, "commit_sha"));
  if (!commit) {
    return usage_error("'commit_sha' is required: the commit to test");
  }
  TRY(string_member(body, "commit_branch"));
  auto pipeline = TRY(ops::find_pipeline(call.context, *pipeline_ref));
  std::optional<TestRun> made;
  for (const auto& run : TRY(ops::list_test_runs(call.context, "", pipeline.id, 0))) {
    if (run.commit == *commit) {
      made = TRY(ops::rerun_test_run(call.context, run.number));
      break;
    }
  }
  if (!made) {
    std::optional<Error> first_error;
    for (const auto& member : TRY(ops::list_couplings(call.context, pipeline.id))) {
      auto created = ops::create_test_run(call.context, {.app = member.app, .ref = *commit});
      if (created) {
        made = std::move(*created);
        break;
      }
      if (!first_error || first_error->kind == ErrorKind::not_found) {
        first_error = created.error();
      }
    }
    if (!made) {
      if (first_error) {
        return std::unexpected(*first_error);
      }
      return fail_as(ErrorKind::not_found, "pipeline '{}' has no app to test", pipeline.name);
    }
  }
  if (auto spawned = ops::spawn_test_run(call.context, made->number); !spawned) {
    return fail_as(ErrorKind::unavailable, "test run #{} could not start: {}", made->number,
                   spawned.error().message);
  }
  return json_response(run_out(call, *made), http::status::created);
}

// The signed stream: what the log holds so far, then what is appended until the run ends.
Expected<Response> stream_run(Call& call) {
  auto number = run_number(call.params[0]);
  if (!number) {
    return usage_error("'{}' is not a test run's number", printable(call.params[0].substr(0, 64)));
  }
  std::optional<int> node;
  if (call.params[1] != "setup") {
    const std::string& text = call.params[1];
    int index = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || index < 0) {
      return usage_error("'{}' is not a test node's index", printable(text.substr(0, 64)));
    }
    node = index;
  }
  TRY(ops::test_run_output(call.context, *number, node)); // the right, and the node exists
  const ops::Context& context = call.context;
  return follow_text(
      [context, number = *number] {
        auto run = ops::test_run(context, number);
        return run && !is_finished_status(run->status);
      },
      [context, number = *number, node] { return ops::test_run_output(context, number, node); });
}

} // namespace

void add_test_run_routes(std::vector<Route>& routes) {
  routes.push_back({http::verb::get, "/pipelines/{}/test-runs", list_runs});
  routes.push_back({http::verb::get, "/pipelines/{}/test-runs/{}", show_pipeline_run});
  routes.push_back({http::verb::post, "/test-runs", create_run});
  routes.push_back({http::verb::get, "/test-runs/{}", show_run});
  routes.push_back({http::verb::get, "/test-runs/{}/test-nodes", list_nodes});
  routes.push_back({http::verb::get, "/streams/test-runs/{}/{}", stream_run, true});
}

} // namespace slipway::api
