#include <thread>

#include <catch2/catch.hpp>

#include "runtime/app_log.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;

TEST_CASE("log lines carry a UTC timestamp and their source", "[app_log]") {
  auto when = std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + std::chrono::hours(7);
  CHECK(format_log_line(when, "app[web.1]", "listening") ==
        "2026-11-26T07:00:00Z app[web.1]: listening\n");
  // A process cannot forge a line of its own, or ring the reader's terminal.
  CHECK(format_log_line(when, "app[web.1]", "a\nb\x1b[2J\tc") ==
        "2026-11-26T07:00:00Z app[web.1]: a?b?[2J\tc\n");
}

TEST_CASE("the log rotates at its size and keeps one older file", "[app_log]") {
  TempDir dir;
  {
    AppLog log(dir.path(), 1000);
    for (int i = 0; i < 100; ++i) {
      log.append("app[web.1]", "line " + std::to_string(i) + std::string(40, 'x'));
    }
  }
  auto size = [&](const char* name) { return std::filesystem::file_size(dir / name); };
  CHECK(size("current.log") <= 1000 + 100);
  CHECK(size("current.log.1") <= 1000 + 100);
  auto tail = read_log_tail(dir.path(), 5);
  REQUIRE(tail.size() == 5);
  CHECK(contains(tail.back(), "app[web.1]: line 99"));
  CHECK(contains(tail.front(), "line 95"));
  // Beyond the current file, the tail reaches into the rotated one, in order.
  auto more = read_log_tail(dir.path(), 20);
  REQUIRE(more.size() == 20);
  CHECK(contains(more.front(), "line 80"));
  CHECK(contains(more.back(), "line 99"));
  // What is older than both files is gone: the cap holds.
  CHECK(read_log_tail(dir.path(), 1000).size() < 40);
  CHECK(read_log_tail(dir / "missing", 10).empty());
}

TEST_CASE("following the log sees new lines across a rotation", "[app_log]") {
  TempDir dir;
  AppLog log(dir.path(), 300);
  log.append("slipway[api]", "before");
  std::atomic<bool> stop{false};
  std::vector<std::string> seen;
  std::thread follower([&] {
    follow_log(
        dir.path(), [&](std::string_view line) { seen.emplace_back(line); }, stop,
        std::chrono::milliseconds(10));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int i = 0; i < 20; ++i) {
    log.append("app[web.1]", "after " + std::to_string(i));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  follower.join();
  REQUIRE(seen.size() == 20);
  CHECK(contains(seen.front(), "after 0"));
  CHECK(contains(seen.back(), "after 19"));
}

TEST_CASE("a line about an app that is gone does not bring its directory back", "[app_log]") {
  TempDir dir;
  AppLog log(dir / "apps/gone/logs", 1 << 20);
  log.append("slipway[web.1]", "Stopping all processes with SIGTERM");
  CHECK_FALSE(std::filesystem::exists(dir / "apps/gone"));
}
