// Heroku CI's test runs through the Platform API: a push to a pipeline app queues a run, which
// the official heroku CLI's ci, ci:info and ci:last show and raw requests read in Heroku's
// shapes, with their signed output streams; a new run by POST /test-runs; a collaborator
// without the app, and malformed ids.
#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/api_harness.hpp"

using namespace slipway;
using namespace slipway::test;
using nlohmann::json;

namespace {

// The app's newest run once it has ended, as `slipway ci:last` shows it.
json finished_run(const ApiServer& api, const std::string& app) {
  for (int i = 0; i < 600; ++i) {
    auto shown = api.server.slipway({"ci:last", "-a", app, "--json"});
    if (shown.ok()) {
      json run = json::parse(shown.output);
      if (run["finished_at"].is_string()) {
        return run;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("the test run never ended");
  return {};
}

json expect(const ApiResponse& response, int status) {
  INFO(response.status << " " << response.body);
  CHECK(response.status == status);
  return response.json();
}

// The heroku CLI as `token`'s key, its ci streams (fetched with node's https.get, which takes
// no http: URL) let through to this plain-HTTP server: a TLS proxy's part in front of a real
// one.
ExitStatus heroku_ci(const ApiServer& api, const std::vector<std::string>& args) {
  fs::path shim = api.server.dir / "http-streams.cjs";
  write_file(shim, "const https = require('https'), http = require('http');\n"
                   "const get = https.get;\n"
                   "https.get = (url, ...rest) => String(url).startsWith('http:') ? "
                   "http.get(url, ...rest) : get(url, ...rest);\n"
                   "require('module').syncBuiltinESMExports();\n");
  std::vector<std::string> argv = {SLIPWAY_HEROKU_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = run({.argv = argv,
                     .env = {{"HEROKU_HOST", "http://" + api.address},
                             {"HEROKU_API_KEY", api.alice},
                             {"HEROKU_PARTICLEBOARD_URL", "http://" + api.address},
                             {"HEROKU_SKIP_NEW_VERSION_CHECK", "1"},
                             {"DISABLE_TELEMETRY", "true"},
                             {"NO_COLOR", "1"},
                             {"NODE_OPTIONS", "--require " + shim.string()},
                             {"HOME", (api.server.dir / "home").string()}},
                     .timeout = std::chrono::minutes(1)});
  REQUIRE(result);
  return *result;
}

// A pipeline `web` with app web-stg (tests/fixtures/apps/ci-fail) pushed: its run #1 failed.
struct CiPipeline {
  ApiServer api;
  json run;
  std::string pipeline_id;
  CiPipeline() {
    api.server.create("web-stg", fixture("apps/ci-fail"));
    auto made = api.server.slipway({"pipelines:create", "web", "-a", "web-stg", "-s", "staging"});
    INFO(made.output);
    REQUIRE(made.ok());
    auto pushed = api.server.push("web-stg");
    INFO(pushed.output);
    REQUIRE(pushed.ok());
    REQUIRE(contains(pushed.output, "Test run #1 of"));
    run = finished_run(api, "web-stg");
    REQUIRE(run["status"] == "failed");
    auto pipeline = expect(api.request("GET", "/pipelines/web", api.alice), 200);
    pipeline_id = pipeline["id"];
  }
};

} // namespace

TEST_CASE("a pushed test run through the API: heroku ci, ci:info, ci:last, its shapes and its "
          "streams",
          "[api][heroku][ci]") {
  CiPipeline ci;
  auto& api = ci.api;
  std::string sha = ci.run["commit"];

  // The list, by name or id, and a page of it as ci:last asks.
  auto runs = expect(api.request("GET", "/pipelines/web/test-runs", api.alice), 200);
  REQUIRE(runs.size() == 1);
  json run = runs[0];
  CHECK(run["number"] == 1);
  CHECK(run["status"] == "failed");
  CHECK(run["commit_sha"] == sha);
  CHECK(run["commit_branch"] == "main");
  CHECK(run["commit_message"].is_string());
  CHECK(run["pipeline"]["id"] == ci.pipeline_id);
  CHECK(run["user"]["email"].is_string());
  CHECK(run["app_setup"].is_null());
  CHECK(run["organization"].is_null());
  CHECK(run["debug"] == false);
  CHECK(run["clear_cache"] == false);
  CHECK(run["source_blob_url"].is_null());
  CHECK(run["created_at"].is_string());
  CHECK(run["updated_at"].is_string());
  CHECK(run["message"] == ci.run["message"]);
  auto page = api.request("GET", "/pipelines/" + ci.pipeline_id + "/test-runs", api.alice, "",
                          {"Range: number ..; order=desc,max=1"});
  CHECK(expect(page, 200).size() == 1);
  CHECK(page.header("accept-ranges") == "number");

  // One, by number and by id, and its node.
  CHECK(expect(api.request("GET", "/pipelines/web/test-runs/1", api.alice), 200) == run);
  CHECK(expect(api.request("GET", "/test-runs/" + run["id"].get<std::string>(), api.alice), 200) ==
        run);
  auto nodes = expect(
      api.request("GET", "/test-runs/" + run["id"].get<std::string>() + "/test-nodes", api.alice),
      200);
  REQUIRE(nodes.size() == 1);
  json node = nodes[0];
  CHECK(node["index"] == 0);
  CHECK(node["status"] == "failed");
  CHECK(node["exit_code"] == 1);
  CHECK(node["error_status"].is_null());
  CHECK(node["test_run"]["id"] == run["id"]);
  CHECK(node["id"].is_string());
  CHECK(node["id"] != run["id"]);

  // Its streams: the node's output and the run's setup, without the token.
  auto output = run_program({"curl", "-s", "-f", "--max-time", "20", node["output_stream_url"]});
  INFO(output.output);
  CHECK(output.ok());
  CHECK(contains(output.output, "not ok 2"));
  auto setup = run_program({"curl", "-s", "-f", "--max-time", "20", node["setup_stream_url"]});
  INFO(setup.output);
  CHECK(setup.ok());
  CHECK(contains(setup.output, "Test run #1: building web-stg"));
  std::string tampered = node["output_stream_url"];
  tampered.replace(tampered.find("/0?"), 3, "/1?");
  CHECK(run_program({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", tampered}).output ==
        "401");

  // The heroku CLI.
  auto listed = api.heroku({"ci", "-p", "web"});
  INFO(listed.output);
  CHECK(listed.ok());
  CHECK(contains(listed.output, "Showing latest test runs for the web pipeline"));
  CHECK(contains(listed.output, sha.substr(0, 7)));
  CHECK(contains(listed.output, "failed"));
  auto as_json = api.heroku({"ci", "-p", "web", "--json"});
  INFO(as_json.output);
  CHECK(contains(as_json.output, "\"commit_sha\": \"" + sha + "\""));

  auto info = heroku_ci(api, {"ci:info", "1", "-p", "web"});
  INFO(info.output);
  CHECK(info.code == 1); // the node's exit code, as Heroku's
  CHECK(contains(info.output, "not ok 2"));
  CHECK(contains(info.output, "#1 main:" + sha.substr(0, 7) + " failed"));
  auto last = heroku_ci(api, {"ci:last", "-p", "web"});
  INFO(last.output);
  CHECK(contains(last.output, "#1 main:" + sha.substr(0, 7) + " failed"));
  // heroku ci:rerun, from the app's work tree.
  {
    std::vector<std::string> argv = {SLIPWAY_HEROKU_CLI, "ci:rerun", "1", "-p", "web"};
    auto rerun = slipway::run({.argv = argv,
                               .env = {{"HEROKU_HOST", "http://" + api.address},
                                       {"HEROKU_API_KEY", api.alice},
                                       {"HEROKU_SKIP_NEW_VERSION_CHECK", "1"},
                                       {"DISABLE_TELEMETRY", "true"},
                                       {"NO_COLOR", "1"},
                                       {"HOME", (api.server.dir / "home").string()}},
                               .cwd = api.server.work("web-stg"),
                               .timeout = std::chrono::minutes(1)});
    // It reads run #1 through this API, then packs the commit for POST /sources (which this
    // server has not) and asks kolkrabbi.heroku.com for the pipeline's repository (an
    // absolute URL): POST /test-runs, which it would send next, is tested by request below.
    INFO(rerun->output);
    CHECK(contains(rerun->output, "Rerunning test run #1..."));
    CHECK_FALSE(rerun->ok());
  }
  // Without the shim, node's https.get refuses the http: stream (see the report).
  auto plain = api.heroku({"ci:info", "1", "-p", "web"});
  INFO(plain.output);
  CHECK_FALSE(plain.ok());
  CHECK(contains(plain.output, "Protocol \"http:\" not supported"));
}

TEST_CASE("POST /test-runs runs a commit again, and a collaborator without the app and malformed "
          "ids are refused",
          "[api][ci]") {
  CiPipeline ci;
  auto& api = ci.api;
  std::string sha = ci.run["commit"];
  std::string id = expect(api.request("GET", "/pipelines/web/test-runs/1", api.alice), 200)["id"];

  // What heroku ci:rerun posts.
  json body = {{"commit_branch", "main"},    {"commit_message", ""},
               {"commit_sha", sha},          {"organization", nullptr},
               {"pipeline", ci.pipeline_id}, {"source_blob_url", "https://example.com/blob"}};
  auto made = expect(api.request("POST", "/test-runs", api.alice, body.dump()), 201);
  CHECK(made["number"] == 2);
  CHECK(made["commit_sha"] == sha);
  CHECK(made["pipeline"]["id"] == ci.pipeline_id);
  json again = finished_run(api, "web-stg");
  CHECK(again["number"] == 2);
  CHECK(again["status"] == "failed");
  auto runs = expect(api.request("GET", "/pipelines/web/test-runs", api.alice, "",
                                 {"Range: number ..; order=desc"}),
                     200);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0]["number"] == 2);
  auto next = api.request("GET", "/pipelines/web/test-runs", api.alice, "",
                          {"Range: number ..; order=desc, max=1"});
  CHECK(expect(next, 206).size() == 1);
  CHECK(next.header("next-range") == "number ]2..; max=1, order=desc");

  // bob has no access to web-stg.
  for (const auto& path : {std::string("/pipelines/web/test-runs/1"), "/test-runs/" + id,
                           "/test-runs/" + id + "/test-nodes"}) {
    auto refused = api.request("GET", path, api.bob);
    INFO(path << ": " << refused.status << " " << refused.body);
    CHECK((refused.status == 404 || refused.status == 403));
  }
  auto listed = api.request("GET", "/pipelines/" + ci.pipeline_id + "/test-runs", api.bob);
  INFO(listed.body);
  CHECK((listed.status == 404 || listed.status == 403 ||
         (listed.status == 200 && listed.json().empty())));
  auto posted = api.request("POST", "/test-runs", api.bob, body.dump());
  CHECK((posted.status == 404 || posted.status == 403));

  // Malformed.
  CHECK(api.request("GET", "/test-runs/not-an-id", api.alice).status == 422);
  CHECK(api.request("GET", "/pipelines/web/test-runs/abc", api.alice).status == 422);
  CHECK(api.request("GET", "/pipelines/web/test-runs/99", api.alice).status == 404);
  CHECK(api.request("GET", "/test-runs/00000000-0000-8000-8000-000000000000", api.alice).status ==
        404);
  CHECK(api.request("POST", "/test-runs", api.alice, R"({"pipeline": 3})").status == 422);
  CHECK(api.request("POST", "/test-runs", api.alice, R"({"pipeline": "web"})").status == 422);
  CHECK(
      api.request("GET", "/pipelines/web/test-runs", api.alice, "", {"Range: bogus ..;"}).status ==
      422);
}
