#include <atomic>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

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
  for (const auto* app : {"demo", "other"}) {
    fs::create_directories(layout.app_dir(app)); // an app's log lives in its directory
  }
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

namespace {

// Records `count` events from another process, as the CLI or the git hook would.
void record_elsewhere(const Layout& layout, const std::string& app, int count) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    Config config;
    for (int i = 0; i < count; ++i) {
      if (!record_event(layout, config, change(app, "from another process"))) {
        _exit(1);
      }
    }
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

std::vector<std::uint64_t> ids_of(const std::vector<Event>& events) {
  std::vector<std::uint64_t> ids;
  for (const auto& event : events) {
    ids.push_back(event.id);
  }
  return ids;
}

} // namespace

TEST_CASE("a follower is handed what other processes record, each event once, past a torn line",
          "[events]") {
  TempDir dir;
  Layout layout(dir.path());
  Config config;
  REQUIRE(record_event(layout, config, change("demo", "one")));
  std::vector<std::string> warnings;
  auto warn = [&](const std::string& warning) { warnings.push_back(warning); };
  EventFollower follower(layout, 0);
  CHECK(ids_of(follower.poll(warn)) == std::vector<std::uint64_t>{1});
  CHECK(follower.poll(warn).empty());

  record_elsewhere(layout, "demo", 2);
  // A writer killed mid-line: its event never happened, and the next one has a line of its own.
  fs::path file = layout.events_dir() / "events.jsonl";
  write_file(file, read_text(file) + R"({"id":4,"time":"2026-12-)", 0600);
  CHECK(ids_of(follower.poll(warn)) == std::vector<std::uint64_t>{2, 3});
  CHECK(warnings.empty()); // a line is judged once it ends
  record_elsewhere(layout, "other", 1);
  CHECK(ids_of(follower.poll(warn)) == std::vector<std::uint64_t>{4});
  REQUIRE(warnings.size() == 1);
  CHECK(contains(warnings[0], "events.jsonl: not a JSON object; skipped"));
  CHECK(follower.last_id() == 4);
}

TEST_CASE("a follower behind a rotation reads the rotated file first", "[events]") {
  TempDir dir;
  Layout layout(dir.path());
  Config config;
  std::string filler(256 * 1024, 'x');
  int count = static_cast<int>(k_events_size / filler.size()) + 8;
  for (int i = 0; i < count; ++i) {
    auto event = change("demo", "scaled");
    event.data["filler"] = filler;
    REQUIRE(record_event(layout, config, event));
  }
  REQUIRE(fs::exists(layout.events_dir() / "events.jsonl.1"));
  auto no_warning = [](const std::string& warning) { FAIL(warning); };
  EventFollower behind(layout, 10);
  auto events = behind.poll(no_warning);
  REQUIRE(events.size() == static_cast<std::size_t>(count - 10));
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].id == i + 11);
  }
  EventFollower near(layout, count - 2);
  CHECK(ids_of(near.poll(no_warning)) ==
        std::vector<std::uint64_t>{static_cast<std::uint64_t>(count - 1),
                                   static_cast<std::uint64_t>(count)});
  CHECK(last_event_id(layout) == static_cast<std::uint64_t>(count));
}

TEST_CASE("a subscriber resumes after the last event it handled, never before nor after",
          "[events]") {
  TempDir dir;
  Layout layout(dir.path());
  Config config;
  std::vector<std::string> warnings;
  auto warn = [&](const std::string& warning) { warnings.push_back(warning); };
  for (int i = 0; i < 3; ++i) {
    REQUIRE(record_event(layout, config, change("demo", "before")));
  }
  fs::path cursor = layout.events_dir() / "cursors" / "webhooks";
  {
    // New: history is not replayed to it.
    auto subscription = EventSubscription::open(layout, "webhooks", warn);
    REQUIRE(subscription);
    CHECK(subscription->cursor() == 3);
    CHECK(read_text(cursor) == "3\n");
    CHECK(subscription->poll(warn).empty());
    record_elsewhere(layout, "demo", 2);
    CHECK(ids_of(subscription->poll(warn)) == std::vector<std::uint64_t>{4, 5});
    REQUIRE(subscription->handled(4)); // then the daemon is killed before it handles 5
    CHECK(read_text(cursor) == "4\n");
  }
  {
    auto subscription = EventSubscription::open(layout, "webhooks", warn);
    REQUIRE(subscription);
    CHECK(ids_of(subscription->poll(warn)) == std::vector<std::uint64_t>{5});
    REQUIRE(subscription->handled(5));
  }
  record_elsewhere(layout, "demo", 1); // while no daemon runs
  {
    auto subscription = EventSubscription::open(layout, "webhooks", warn);
    REQUIRE(subscription);
    CHECK(ids_of(subscription->poll(warn)) == std::vector<std::uint64_t>{6});
    CHECK(subscription->poll(warn).empty());
  }
  CHECK(warnings.empty());

  // The stream deleted and begun again: what is in it now is new to every subscriber.
  REQUIRE(write_event_cursor(layout, "stale", 99));
  auto stale = EventSubscription::open(layout, "stale", warn);
  REQUIRE(stale);
  CHECK(stale->cursor() == 0);
  REQUIRE(warnings.size() == 1);
  CHECK(contains(warnings[0], "starts over"));
  CHECK(stale->poll(warn).size() == 6);

  for (const char* name : {"", "../x", "Web", "a/b"}) {
    INFO(name);
    CHECK_FALSE(EventSubscription::open(layout, name, warn));
  }
  write_file(layout.events_dir() / "cursors" / "broken", "seven\n");
  CHECK_FALSE(EventSubscription::open(layout, "broken", warn));
}
