#include <catch2/catch.hpp>

#include "runtime/control.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::control;
using nlohmann::json;

TEST_CASE("requests have the control socket's wire format and read back the same", "[control]") {
  auto deadline = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764691200123));
  CHECK(to_json(Request(StatusRequest{})).dump() == R"({"command":"status"})");
  CHECK(
      to_json(Request(ActivateRequest{.app = "demo", .version = 3, .deadline = deadline})).dump() ==
      R"({"app":"demo","command":"activate","deadline_ms":1764691200123,)"
      R"("version":3})");
  CHECK(to_json(Request(ActivateRequest{.app = "demo", .version = 3})).dump() ==
        R"({"app":"demo","command":"activate","version":3})");
  CHECK(to_json(Request(DeactivateRequest{.app = "demo"})).dump() ==
        R"({"app":"demo","command":"deactivate"})");
  CHECK(to_json(Request(SyncRequest{.app = "demo"})).dump() ==
        R"({"app":"demo","command":"sync"})");
  CHECK(to_json(Request(RestartRequest{.app = "demo", .type = "web"})).dump() ==
        R"({"app":"demo","command":"restart","type":"web"})");
  CHECK(to_json(Request(PsRequest{.app = "demo"})).dump() == R"({"app":"demo","command":"ps"})");

  auto activate = parse_request(json::parse(
      R"({"app":"demo","command":"activate","deadline_ms":1764691200123,"version":3})"));
  REQUIRE(activate);
  auto* typed = std::get_if<ActivateRequest>(&*activate);
  REQUIRE(typed);
  CHECK(typed->app == "demo");
  CHECK(typed->version == 3);
  CHECK(typed->deadline == deadline);

  auto restart = parse_request(json::parse(R"({"app":"demo","command":"restart"})"));
  REQUIRE(restart);
  CHECK(std::get<RestartRequest>(*restart).type.empty());
  CHECK(std::holds_alternative<StatusRequest>(
      *parse_request(json::parse(R"({"command":"status"})"))));
}

TEST_CASE("a request the wire format does not allow is refused, naming what is wrong",
          "[control]") {
  struct Case {
    std::string request;
    std::string message;
  };
  for (const auto& [request, message] : std::vector<Case>{
           {R"([1,2])", R"(malformed request: expected {"command": ...})"},
           {R"({"app":"demo"})", R"(malformed request: expected {"command": ...})"},
           {R"({"command":7})", R"(malformed request: expected {"command": ...})"},
           {R"({"command":"launch-missiles","app":"demo"})", "unknown command 'launch-missiles'"},
           {R"({"command":"ps"})", R"(malformed request: 'ps' needs a valid "app")"},
           {R"({"command":"ps","app":"../etc"})", R"(malformed request: 'ps' needs a valid "app")"},
           {R"({"command":"ps","app":5})", R"(malformed request: 'ps' needs a valid "app")"},
           {R"({"command":"activate","app":"demo"})",
            R"(malformed request: 'activate' needs a "version")"},
           {R"({"command":"activate","app":"demo","version":"3"})",
            R"(malformed request: 'activate': "version" must be an integer)"},
           {R"({"command":"activate","app":"demo","version":3.5})",
            R"(malformed request: 'activate': "version" must be an integer)"},
           {R"({"command":"activate","app":"demo","version":99999999999})",
            R"(malformed request: 'activate': "version" must be an integer)"},
           {R"({"command":"activate","app":"demo","version":3,"deadline_ms":"soon"})",
            R"(malformed request: 'activate': "deadline_ms" must be an integer)"},
           {R"({"command":"restart","app":"demo","type":null})",
            R"(malformed request: 'restart': "type" must be a string)"},
           {R"({"command":"sync","app":"demo","verison":2})",
            R"(malformed request: 'sync': unknown field "verison")"},
           {R"({"command":"status","app":"demo"})",
            R"(malformed request: 'status': unknown field "app")"},
       }) {
    INFO(request);
    auto parsed = parse_request(json::parse(request));
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().message == message);
  }
}

TEST_CASE("results have the wire format, and `ps --json` prints the same bytes as before",
          "[control]") {
  CHECK(to_json(StatusResult{.pid = 42, .apps = 3}).dump() == R"({"apps":3,"pid":42})");
  CHECK(to_json(ActivateResult{
                    .web = 2, .unpack_ms = 30, .start_ms = 12, .health_ms = 412, .switch_ms = 85})
            .dump() == R"({"health_ms":412,"start_ms":12,"switch_ms":85,"unpack_ms":30,"web":2})");
  CHECK(to_json(DeactivateResult{}).dump() == R"({"deactivated":true})");
  CHECK(to_json(SyncResult{.processes = 4}).dump() == R"({"processes":4})");
  CHECK(to_json(SyncResult{.removed = true}).dump() == R"({"removed":true})");
  CHECK(to_json(RestartResult{.restarted = 2}).dump() == R"({"restarted":2})");

  // As the daemon answered before the types, and `slipway ps --json` printed it.
  std::string wire =
      R"([{"command":"node server.js","crashes":0,"name":"web.1","pid":4711,"port":20001,)"
      R"("release":3,"started_at":"2026-12-02T16:00:00Z","state":"up","type":"web",)"
      R"("uptime_seconds":75},{"command":"node worker.js","crashes":2,"name":"worker.1",)"
      R"("release":3,"state":"crashed","type":"worker"}])";
  auto processes = parse_result<std::vector<ProcessStatus>>(json::parse(wire));
  REQUIRE(processes);
  REQUIRE(processes->size() == 2);
  CHECK((*processes)[0].pid == 4711);
  CHECK((*processes)[0].uptime_seconds == 75);
  CHECK((*processes)[1].state == "crashed");
  CHECK_FALSE((*processes)[1].pid);
  CHECK_FALSE((*processes)[1].port);
  CHECK(to_json(*processes).dump(2) == json::parse(wire).dump(2));
  CHECK(to_json(std::vector<ProcessStatus>{}).dump(2) == "[]");

  auto activated =
      parse_result<ActivateResult>(json::parse(R"({"web":1,"health_ms":5,"switch_ms":7})"));
  REQUIRE(activated);
  CHECK(activated->switch_ms == 7);
  CHECK(activated->unpack_ms == 0); // a daemon from before the breakdown
  auto detailed = parse_result<ActivateResult>(
      json::parse(R"({"web":1,"unpack_ms":3,"start_ms":4,"health_ms":5,"switch_ms":7})"));
  REQUIRE(detailed);
  CHECK(detailed->unpack_ms == 3);
  CHECK(detailed->start_ms == 4);
  auto removed = parse_result<SyncResult>(json::parse(R"({"removed":true})"));
  REQUIRE(removed);
  CHECK(removed->removed);
  auto synced = parse_result<SyncResult>(json::parse(R"({"processes":2})"));
  REQUIRE(synced);
  CHECK(synced->processes == 2);
  auto status = parse_result<StatusResult>(json::parse(R"({"pid":9,"apps":0})"));
  REQUIRE(status);
  CHECK(status->pid == 9);
}

TEST_CASE("a malformed answer from the daemon is an error naming the field", "[control]") {
  auto missing = parse_result<ActivateResult>(json::parse(R"({"web":1,"health_ms":5})"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == R"(the daemon's answer to 'activate' needs a "switch_ms")");
  auto wrong = parse_result<RestartResult>(json::parse(R"({"restarted":"two"})"));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().message ==
        R"(the daemon's answer to 'restart': "restarted" must be an integer)");
  auto unknown = parse_result<std::vector<ProcessStatus>>(json::parse(
      R"([{"name":"web.1","type":"web","state":"up","release":1,"command":"x","crashes":0,"pdi":3}])"));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == R"(the daemon's answer to 'ps': unknown field "pdi")");
  CHECK_FALSE(parse_result<std::vector<ProcessStatus>>(json::parse(R"({"name":"web.1"})")));
  CHECK_FALSE(parse_result<DeactivateResult>(json::parse(R"({"deactivated":false})")));
}
