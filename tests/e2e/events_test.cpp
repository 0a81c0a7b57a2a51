#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/lines.hpp"
#include "tests/support/server.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// `events --json` as JSON: warnings go to stderr, and run_slipway merges it, so the array
// starts at the first '['.
json events(const Server& server, std::vector<std::string> args) {
  args.insert(args.begin(), {"events", "--json", "-n", "0"});
  auto listed = server.slipway(args);
  INFO(listed.output);
  REQUIRE(listed.ok());
  auto start = listed.output.find("[\n");
  REQUIRE(start != std::string::npos);
  return json::parse(listed.output.substr(start));
}

std::vector<std::string> kinds(const json& list) {
  std::vector<std::string> out;
  for (const auto& event : list) {
    out.push_back(event["resource"].get<std::string>() + "." + event["action"].get<std::string>());
  }
  return out;
}

} // namespace

TEST_CASE("events list a push, a config change, a scale and a rollback in order, with actors",
          "[events]") {
  Server server;
  server.create("demo");
  auto pushed = server.push("demo");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  REQUIRE(server.serves("demo", "hello from demo"));
  REQUIRE(server.slipway({"config:set", "-a", "demo", "GREETING=hi"}).ok());
  REQUIRE(server.slipway({"ps:scale", "-a", "demo", "web=2"}).ok());
  REQUIRE(server.slipway({"rollback", "-a", "demo"}).ok());

  auto all = events(server, {"-a", "demo"});
  INFO(all.dump(2));
  auto seen = kinds(all);
  // In the order they happened; process state changes and releases come in between.
  std::vector<std::string> api;
  for (const auto& kind : seen) {
    if (!kind.starts_with("dyno.") && kind != "release.created") {
      api.push_back(kind);
    }
  }
  CHECK(api == std::vector<std::string>{"app.created", "build.started", "build.succeeded",
                                        "release.succeeded", "config.changed",
                                        "formation.changed"});
  CHECK(std::ranges::count(seen, "release.created") == 3); // push, config, rollback
  CHECK(std::ranges::count(seen, "dyno.up") >= 2);
  std::uint64_t previous = 0;
  for (const auto& event : all) {
    CHECK(event["id"].get<std::uint64_t>() > previous);
    previous = event["id"].get<std::uint64_t>();
    CHECK(event["app"] == "demo");
    // The server's local user here (root), or slipway itself for a process's state.
    CHECK(event["actor"] == (event["resource"] == "dyno" ? "slipway" : "root"));
  }
  auto config = std::ranges::find_if(all, [](const json& e) { return e["resource"] == "config"; });
  REQUIRE(config != all.end());
  CHECK((*config)["data"]["set"] == json::array({"GREETING"}));
  CHECK_FALSE(contains(config->dump(), "hi\"")); // names, never values
  std::string last_description;
  for (const auto& event : all) {
    if (event["resource"] == "release" && event["action"] == "created") {
      last_description = event["data"]["description"].get<std::string>();
    }
  }
  CHECK(contains(last_description, "Rollback to v1"));

  // The same events, one line each, and the app log's lines come from them.
  auto text = server.slipway({"events", "-a", "demo"});
  CHECK(contains(text.output, "formation.changed (root): Scaled to web@2"));
  CHECK(contains(server.slipway({"logs", "-a", "demo", "-n", "200"}).output,
                 "slipway[api]: Scaled to web@2"));
  // --since skips what was seen.
  auto since = events(server, {"-a", "demo", "--since", std::to_string(previous - 1)});
  REQUIRE_FALSE(since.empty()); // and what happened since (processes stopping)
  CHECK(since[0]["id"] == previous);
}

TEST_CASE("events --tail follows a push made meanwhile, past a torn line", "[events]") {
  Server server;
  server.create("demo");
  auto first = server.push("demo");
  INFO(first.output);
  REQUIRE(first.ok());
  // A writer killed mid-line leaves a torn last line.
  fs::path file = server.root / "events/events.jsonl";
  write_file(file, read_text(file) + R"({"id":99,"time":"2026-12-)", 0600);

  ExitStatus tailed;
  std::thread follower([&] {
    tailed =
        run_program({"timeout", "-s", "INT", "8", slipway_binary().string(), "--root",
                     server.root.string(), "events", "--tail", "--json", "-n", "1", "-a", "demo"});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  server.write("demo", "www/index.html", "second\n");
  server.commit("demo", "second");
  auto pushed = server.push("demo");
  follower.join();
  INFO(tailed.output);
  CHECK(pushed.ok());
  CHECK(contains(tailed.output, "warning: "));
  CHECK(contains(tailed.output, "not a JSON object; skipped"));
  // One object per line: the last event before, then the push's, in order.
  std::vector<std::string> seen;
  for (auto line : split_lines(tailed.output)) {
    if (line.text.starts_with("{")) {
      auto event = json::parse(line.text);
      seen.push_back(event["resource"].get<std::string>() + "." +
                     event["action"].get<std::string>());
    }
  }
  CHECK(std::ranges::count(seen, "build.started") == 1);
  CHECK(std::ranges::count(seen, "release.created") == 1);
  CHECK(std::ranges::count(seen, "build.succeeded") == 1);
}

TEST_CASE("events without -a list every app's, and an unknown app is refused by name", "[events]") {
  Server server;
  server.create("demo");
  server.create("other");
  auto all = events(server, {});
  CHECK(kinds(all) == std::vector<std::string>{"app.created", "app.created"});
  CHECK(all[1]["app"] == "other");
  auto wrong = server.slipway({"events", "-a", "nope"});
  CHECK_FALSE(wrong.ok());
  CHECK(contains(wrong.output, "nope"));
}
