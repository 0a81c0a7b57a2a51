// Limits an app cannot get past: processes and threads, memory, file size, disk. A build
// that forks without end or a process that eats memory is stopped, and neither the daemon
// nor any other app notices.
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/server.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Forks until the kernel says no, keeping every child alive; prints how many it got.
constexpr const char* k_fork_bomb = R"py(
import os, time
children = 0
try:
    while children < 5000:
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        children += 1
except OSError as error:
    print("fork refused after", children, "children:", error.strerror, flush=True)
else:
    print("forked", children, "children", flush=True)
)py";

bool cgroups_here() {
  return geteuid() == 0 && fs::exists("/sys/fs/cgroup/memory/cgroup.procs") &&
         fs::exists("/sys/fs/cgroup/pids/cgroup.procs");
}

} // namespace

TEST_CASE("a fork bomb stops at the app's process limit and the server keeps serving", "[limits]") {
  Server server({.config = "[runtime]\nhealth_timeout = \"10s\"\nstop_grace = \"2s\"\n"
                           "processes = 64\n"});
  server.create("bomb");
  server.create("bystander");
  server.write("bomb", "bomb.py", k_fork_bomb);
  server.commit("bomb", "a fork bomb");
  REQUIRE(server.push("bomb").ok());
  REQUIRE(server.push("bystander").ok());

  auto bombed = server.slipway({"run", "-a", "bomb", "--", "python3 bomb.py"});
  INFO(bombed.output);
  CHECK(contains(bombed.output, "fork refused after"));
  CHECK_FALSE(contains(bombed.output, "forked 5000 children"));
  CHECK(server.serves("bystander", "hello from bystander"));
  CHECK(server.slipway({"ps", "-a", "bomb"}).ok());
}

TEST_CASE("a build that forks without end is stopped at the process limit", "[limits]") {
  Server server({.config = "[runtime]\nprocesses = 64\n"
                           "[build]\nlocal_buildpacks = [\"@DIR@/buildpacks\"]\n"});
  server.create("bomb");
  server.write("bomb", "bomb.py", k_fork_bomb);
  server.use_buildpack("bomb", server.buildpack("forker", "exec python3 /app/bomb.py\n"));
  auto pushed = server.push("bomb");
  INFO(pushed.output);
  CHECK(contains(pushed.output, "fork refused after"));
}

TEST_CASE("a process past its memory is killed, logged as R15 and restarted", "[limits]") {
  if (!cgroups_here()) {
    WARN("no cgroup v1 memory controller here: memory is bounded per process (RLIMIT_DATA)");
  }
  Server server({.config = "[runtime]\nhealth_timeout = \"10s\"\nstop_grace = \"2s\"\n"
                           "memory = \"64MB\"\n"});
  server.create("hog");
  server.write("hog", "Procfile",
               "web: python3 -m http.server \"$PORT\" --bind 127.0.0.1 --directory www\n"
               "hog: python3 -c \"import time; b = [bytearray(1 << 20) for _ in range(256)]; "
               "time.sleep(60)\"\n");
  server.commit("hog", "a memory hog");
  REQUIRE(server.push("hog").ok());
  REQUIRE(server.slipway({"ps:scale", "-a", "hog", "hog=1"}).ok());
  std::string log;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  std::string expected = cgroups_here() ? "Error R15 (Memory quota exceeded)" : "MemoryError";
  while (std::chrono::steady_clock::now() < deadline && !contains(log, expected)) {
    std::this_thread::sleep_for(200ms);
    log = server.slipway({"logs", "-a", "hog", "-n", "200"}).output;
  }
  INFO(log);
  CHECK(contains(log, expected));
  CHECK(contains(log, "slipway[hog.1]: State changed from starting to up"));
  CHECK(server.serves("hog", "hello from hog"));
}

TEST_CASE("a build past its memory is stopped", "[limits]") {
  if (!cgroups_here()) {
    WARN("no cgroup v1 memory controller here: memory is bounded per process (RLIMIT_DATA)");
  }
  Server server({.config = "[build]\nmemory = \"96MB\"\n"
                           "local_buildpacks = [\"@DIR@/buildpacks\"]\n"});
  server.create("hog");
  server.use_buildpack("hog",
                       server.buildpack("hog", "python3 -c \"b = [bytearray(1 << 20) for "
                                               "_ in range(512)]\" && echo allocated 512MB\n"));
  auto pushed = server.push("hog");
  INFO(pushed.output);
  CHECK_FALSE(pushed.ok());
  CHECK_FALSE(contains(pushed.output, "allocated 512MB"));
}

TEST_CASE("a build past its disk budget is stopped and cleaned up at once", "[limits]") {
  Server server({.config = "[build]\nmax_disk = \"40MB\"\n"
                           "local_buildpacks = [\"@DIR@/buildpacks\"]\n"});
  server.create("filler");
  server.use_buildpack("filler", server.buildpack("filler", "for i in $(seq 1 20); do head -c "
                                                            "10000000 /dev/zero > /app/fill.$i; "
                                                            "sleep 0.2; done\necho wrote 200MB\n"));
  auto pushed = server.push("filler");
  INFO(pushed.output);
  CHECK_FALSE(pushed.ok());
  CHECK(contains(pushed.output, "the build wrote more than [build] max_disk (40.0MB)"));
  CHECK_FALSE(contains(pushed.output, "wrote 200MB"));
  // Nothing of the failed build is left to take space.
  CHECK(fs::is_empty(server.app_dir("filler") / "tmp"));
}
