#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "runtime/events.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;

namespace {

Event change(const std::string& app, const std::string& message) {
  return {.app = app,
          .resource = "formation",
          .action = "changed",
          .actor = "alice",
          .data = {{"message", message}}};
}

} // namespace

TEST_CASE("events are numbered in order and render the app log's lines", "[events]") {
  TempDir dir;
  Layout layout(dir.path());
  Config config;
  for (int i = 1; i <= 3; ++i) {
    auto recorded =
        record_event(layout, config, change("demo", fmt::format("Scaled to web@{}", i)));
    REQUIRE(recorded);
    CHECK(recorded->id == static_cast<std::uint64_t>(i));
  }
  REQUIRE(record_event(layout, config,
                       {.app = "other",
                        .resource = "release",
                        .action = "created",
                        .actor = "bob",
                        .data = {{"version", 4}, {"description", "Deploy 3f2a1bc"}}}));
  auto page = read_events(layout, {});
  CHECK(page.warnings.empty());
  REQUIRE(page.events.size() == 4);
  CHECK(page.events[3].id == 4);
  CHECK(page.events[3].actor == "bob");
  CHECK(page.events[3].data["version"] == 4);
  CHECK(describe_event(page.events[3]).text == "Release v4 created by bob: Deploy 3f2a1bc");

  CHECK(read_events(layout, {.app = "demo"}).events.size() == 3);
  CHECK(read_events(layout, {.since = 2}).events.front().id == 3);
  auto last = read_events(layout, {.limit = 1}).events;
  REQUIRE(last.size() == 1);
  CHECK(last[0].id == 4);
  CHECK(read_events(layout, {.apps_allowed = {"other"}}).events.size() == 1);

  // The app's log has the same lines, from the same events.
  auto log = read_text(layout.log_dir("demo") / "current.log");
  CHECK(contains(log, "slipway[api]: Scaled to web@3"));
  CHECK(contains(read_text(layout.log_dir("other") / "current.log"),
                 "slipway[api]: Release v4 created by bob: Deploy 3f2a1bc"));
}

TEST_CASE("a torn last line is skipped with a warning and the next event has a line of its own",
          "[events]") {
  TempDir dir;
  Layout layout(dir.path());
  Config config;
  REQUIRE(record_event(layout, config, change("demo", "one")));
  REQUIRE(record_event(layout, config, change("demo", "two")));
  fs::path file = layout.events_dir() / "events.jsonl";
  // A writer killed mid-line.
  std::string text = read_text(file);
  write_file(file, text + R"({"id":3,"time":"2026-12-02T16:00:00Z","app":"de)", 0600);
  auto page = read_events(layout, {});
  REQUIRE(page.events.size() == 2);
  REQUIRE(page.warnings.size() == 1);
  CHECK(contains(page.warnings[0], "line 3: not a JSON object; skipped"));

  auto next = record_event(layout, config, change("demo", "three"));
  REQUIRE(next);
  CHECK(next->id == 3); // the torn event never happened
  page = read_events(layout, {});
  REQUIRE(page.events.size() == 3);
  CHECK(page.events[2].data["message"] == "three");
  CHECK(page.warnings.size() == 1);
}

TEST_CASE("malformed event lines are refused with what is wrong", "[events]") {
  struct Case {
    std::string line;
    std::string message;
  };
  for (const auto& [line, message] : std::vector<Case>{
           {"", "not a JSON object"},
           {"[1,2]", "not a JSON object"},
           {R"({"time":"2026-12-02T16:00:00Z"})", "no id"},
           {R"({"id":-4})", "no id"},
           {R"({"id":0})", "no id"},
           {R"({"id":5,"app":"demo","resource":"x","action":"y"})", "event 5 has no 'actor'"},
           {R"({"id":5,"app":"demo","resource":"x","action":"y","actor":"a","time":"yesterday",)"
            R"("data":{}})",
            "event 5 has no valid 'time'"},
           {R"({"id":5,"app":"demo","resource":"x","action":"y","actor":"a",)"
            R"("time":"2026-13-02T16:00:00Z","data":{}})",
            "event 5 has no valid 'time'"},
           {R"({"id":5,"app":"demo","resource":"x","action":"y","actor":"a",)"
            R"("time":"2026-12-02T16:00:00Z","data":[]})",
            "event 5 has no 'data' object"},
       }) {
    INFO(line);
    auto event = parse_event(line);
    REQUIRE_FALSE(event);
    CHECK(event.error().message == message);
  }
  auto good = parse_event(R"({"id":5,"app":"","resource":"x","action":"y","actor":"a",)"
                          R"("time":"2026-12-02T16:00:00Z","data":{}})");
  REQUIRE(good);
  CHECK(format_time(good->time) == "2026-12-02T16:00:00Z");
}

TEST_CASE("ids keep increasing across a rotation, and a follower sees every event once",
          "[events]") {
  TempDir dir;
  Layout layout(dir.path());
  Config config;
  std::atomic<bool> stop{false};
  std::vector<std::uint64_t> seen;
  std::vector<std::string> warnings;
  std::thread follower([&] {
    follow_events(
        layout, {.app = "demo"}, 0, [&](const Event& event) { seen.push_back(event.id); },
        [&](const std::string& warning) { warnings.push_back(warning); }, stop);
  });
  // Enough to rotate at k_events_size (16 MiB) once: big events.
  std::string filler(256 * 1024, 'x');
  int count = static_cast<int>(k_events_size / filler.size()) + 8;
  for (int i = 0; i < count; ++i) {
    auto event = change(i % 2 ? "demo" : "other", "scaled");
    event.data["filler"] = filler;
    REQUIRE(record_event(layout, config, event));
  }
  CHECK(fs::exists(layout.events_dir() / "events.jsonl.1"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (seen.size() < static_cast<std::size_t>(count / 2) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  follower.join();
  CHECK(warnings.empty());
  REQUIRE(seen.size() == static_cast<std::size_t>(count / 2));
  for (std::size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i] == 2 * i + 2);
  }
  auto page = read_events(layout, {.limit = 0});
  CHECK(page.events.back().id == static_cast<std::uint64_t>(count));
}
