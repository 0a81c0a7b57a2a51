#include <catch2/catch.hpp>

#include "runtime/daemon/nginx.hpp"

using namespace slipway;
using namespace slipway::daemon;

TEST_CASE("a pid record is a pid above 1 and its start time", "[nginx]") {
  auto record = parse_pid_record("4711 123456\n");
  REQUIRE(record);
  CHECK(record->pid == 4711);
  CHECK(record->start == 123456);
  for (const char* text : {"", "4711", "4711\n", "1 5\n", "0 5\n", "-3 5\n", "pid start\n"}) {
    INFO(text);
    CHECK_FALSE(parse_pid_record(text));
  }
}

TEST_CASE("nginx's control socket answers the configuration's generation", "[nginx]") {
  CHECK(parse_generation("7") == 7);
  CHECK(parse_generation("12345") == 12345);
  CHECK_FALSE(parse_generation(""));
  CHECK_FALSE(parse_generation("<html>"));
}

TEST_CASE("an nginx worker takes connections until it retitles itself shutting down", "[nginx]") {
  // /proc/PID/cmdline: the title, NUL-terminated.
  using namespace std::string_view_literals;
  CHECK(worker_still_listening("nginx: worker process\0"sv));
  CHECK_FALSE(worker_still_listening("nginx: worker process is shutting down\0"sv));
  CHECK_FALSE(worker_still_listening("nginx: master process /usr/sbin/nginx -p /srv\0"sv));
  CHECK_FALSE(worker_still_listening(""));
}

TEST_CASE("only nginx workers a killed master left in its group are orphans", "[nginx]") {
  const int master = 500;
  const long start = 1000;
  ProcessStat worker{.comm = "nginx", .state = 'S', .ppid = 1, .pgid = master, .start_time = 1001};
  CHECK(orphaned_worker(worker, 501, master, start));
  CHECK_FALSE(orphaned_worker(worker, master, master, start)); // the master itself
  auto child = worker;
  child.ppid = master; // still the child of a live master
  CHECK_FALSE(orphaned_worker(child, 501, master, start));
  auto older = worker;
  older.start_time = 999; // started before the master: not its worker
  CHECK_FALSE(orphaned_worker(older, 501, master, start));
  auto stranger = worker;
  stranger.pgid = 77;
  CHECK_FALSE(orphaned_worker(stranger, 501, master, start));
  auto other = worker;
  other.comm = "bash";
  CHECK_FALSE(orphaned_worker(other, 501, master, start));
  auto zombie = worker;
  zombie.state = 'Z';
  CHECK_FALSE(orphaned_worker(zombie, 501, master, start));
}
