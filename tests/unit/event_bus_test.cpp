#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "runtime/daemon/event_bus.hpp"
#include "runtime/daemon/reconciler.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::daemon;
using namespace slipway::test;
namespace fs = std::filesystem;

namespace {

Event event_of(const std::string& app, const std::string& resource, const std::string& action,
               nlohmann::json data = nlohmann::json::object()) {
  return {.app = app, .resource = resource, .action = action, .actor = "alice", .data = data};
}

// Records the events from another process, as the CLI or the git hook would.
void record_elsewhere(const Layout& layout, const std::vector<Event>& events) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    Config config;
    for (const auto& event : events) {
      if (!record_event(layout, config, event)) {
        _exit(1);
      }
    }
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

awaitable<void> note(std::vector<std::uint64_t>& handled, Event event) {
  handled.push_back(event.id);
  co_return;
}

Subscriber scaling_watcher(std::vector<std::uint64_t>& handled) {
  return {.name = "scaling",
          .wants = [](const Event& event) { return event.resource == "formation"; },
          .handle = [&handled](Event event) { return note(handled, std::move(event)); }};
}

// Runs the loop until `done` or 10 s.
template <class Done>
bool run_until(asio::io_context& io, Done done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(20));
  }
  return done();
}

std::string cursor_text(const Layout& layout) {
  return read_text(layout.events_dir() / "cursors" / "scaling");
}

} // namespace

TEST_CASE("the bus hands a subscriber what other processes record, and it resumes after a "
          "restart",
          "[event_bus]") {
  TempDir dir;
  Layout layout(dir.path());
  Config config;
  REQUIRE(record_event(layout, config, event_of("demo", "formation", "changed")));
  std::vector<std::uint64_t> handled;
  std::vector<std::string> warnings;
  auto warn = [&](const std::string& warning) { warnings.push_back(warning); };
  {
    asio::io_context io;
    EventBus bus(io, layout, warn);
    REQUIRE(bus.subscribe(scaling_watcher(handled)));
    bus.start();
    io.run_for(std::chrono::milliseconds(50));
    CHECK(handled.empty()); // a new subscriber starts after the newest event
    record_elsewhere(layout,
                     {event_of("demo", "formation", "changed"), event_of("demo", "dyno", "up"),
                      event_of("x", "formation", "changed")});
    REQUIRE(run_until(io, [&] { return handled.size() == 2; }));
    CHECK(handled == std::vector<std::uint64_t>{2, 4});
    CHECK(cursor_text(layout) == "4\n");
    // A torn line, then an event it does not want: skipped with a warning; the cursor passes.
    fs::path file = layout.events_dir() / "events.jsonl";
    write_file(file, read_text(file) + R"({"id":5,"time":"2026-12-)", 0600);
    record_elsewhere(layout, {event_of("demo", "dyno", "crashed")});
    REQUIRE(run_until(io, [&] { return cursor_text(layout) == "5\n"; }));
    REQUIRE(warnings.size() == 1);
    CHECK(contains(warnings[0], "not a JSON object; skipped"));
    bus.stop();
    io.run_for(std::chrono::milliseconds(50));
  }
  // While no daemon runs.
  record_elsewhere(layout, {event_of("demo", "formation", "changed")});
  {
    asio::io_context io;
    EventBus bus(io, layout, warn);
    REQUIRE(bus.subscribe(scaling_watcher(handled)));
    bus.start();
    REQUIRE(run_until(io, [&] { return handled.size() == 3; }));
    io.run_for(std::chrono::milliseconds(200));
    CHECK(handled == std::vector<std::uint64_t>{2, 4, 6}); // nothing replayed, nothing skipped
    CHECK(cursor_text(layout) == "6\n");
    bus.stop();
    io.run_for(std::chrono::milliseconds(50));
  }
}

TEST_CASE("the reconciler takes the events that change what an app runs", "[event_bus]") {
  CHECK(app_to_reconcile(event_of("demo", "formation", "changed")) == "demo");
  CHECK(app_to_reconcile(event_of("demo", "domain", "added")) == "demo");
  CHECK(app_to_reconcile(event_of("demo", "domain", "removed")) == "demo");
  CHECK(app_to_reconcile(event_of("demo", "maintenance", "enabled")) == "demo");
  CHECK(app_to_reconcile(event_of("demo", "maintenance", "disabled")) == "demo");
  CHECK(app_to_reconcile(event_of("demo", "release", "created")) == "demo");
  CHECK(app_to_reconcile(event_of("demo", "release", "succeeded")) == "demo");
  CHECK(app_to_reconcile(event_of("demo", "release", "rolled_back")) == "demo");
  // apps:set, which may move the app to another engine (scheduler=swarm).
  CHECK(app_to_reconcile(event_of("demo", "app", "updated")) == "demo");
  CHECK(app_to_reconcile(event_of("", "app", "destroyed", {{"app", "demo"}})) == "demo");
  CHECK_FALSE(app_to_reconcile(event_of("", "app", "destroyed", {{"app", "../etc"}})));
  CHECK_FALSE(app_to_reconcile(event_of("", "app", "destroyed")));
  CHECK_FALSE(app_to_reconcile(event_of("demo", "release", "failed")));
  CHECK_FALSE(app_to_reconcile(event_of("demo", "dyno", "up")));
  CHECK_FALSE(app_to_reconcile(event_of("demo", "config", "changed"))); // its release.created
  CHECK_FALSE(app_to_reconcile(event_of("demo", "app", "created")));
  CHECK_FALSE(app_to_reconcile(event_of("", "key", "added")));
}
