// Faults, caused for real: a push interrupted with ^C at any moment, the daemon stopped or
// killed, nginx's master killed, `current` deleted, a pathological .slugignore, a full
// disk. Afterwards the live release is the one the branch names, nothing stays pending,
// and the next deploy works.
#include <atomic>
#include <csignal>
#include <cstring>
#include <fstream>
#include <future>
#include <random>
#include <sys/mount.h>
#include <thread>

#include <catch2/catch.hpp>

#include "common/proc.hpp"
#include "common/tree.hpp"
#include "tests/support/server.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// An app whose web process takes `delay` seconds to answer, so a push spends a while in
// its health check.
void slow_app(Server& server, const std::string& app, const std::string& delay) {
  server.create(app);
  server.write(app, "Procfile",
               fmt::format("web: sleep {} && exec python3 -m http.server \"$PORT\" --bind "
                           "127.0.0.1 --directory www\n",
                           delay));
  server.commit(app, "slow to start");
}

// A push started in the background, to be interrupted like ^C at the terminal: SIGINT to
// its whole process group (git, receive-pack, the hook).
class BackgroundPush {
 public:
  BackgroundPush(const Server& server, const std::string& app) {
    Command command = server.push_command(app);
    std::promise<int> started;
    auto pid = started.get_future();
    command.on_start = [&started](int id) { started.set_value(id); };
    m_done = std::async(std::launch::async, [command] { return run(command); });
    m_pgid = pid.get();
  }
  void interrupt() const { ::killpg(m_pgid, SIGINT); }
  ExitStatus wait() {
    auto status = m_done.get();
    REQUIRE(status);
    return *status;
  }

 private:
  int m_pgid = 0;
  std::future<Expected<ExitStatus>> m_done;
};

// The invariant after any fault: settled, the live release is the one the branch names.
void check_consistent(const Server& server, const std::string& app) {
  CHECK(server.settled(app));
  auto releases = server.releases(app);
  INFO(releases.dump(2));
  INFO(server.daemon.log());
  CHECK(server.live_commit(app) == server.branch(app));
  for (const auto& release : releases) {
    CHECK(release["status"] != "pending");
  }
}

bool wait_for_file(const fs::path& file, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(file)) {
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// 0 while there is none: nginx creates its pid file, then writes it.
int nginx_master(const Server& server) {
  std::ifstream file(server.root / "run/nginx/nginx.pid");
  int pid = 0;
  file >> pid;
  return file ? pid : 0;
}

} // namespace

TEST_CASE("a push interrupted while its release starts is rolled back and recorded", "[faults]") {
  Server server;
  slow_app(server, "demo", "1");
  REQUIRE(server.push("demo").ok());
  std::string before = server.branch("demo");
  server.write("demo", "www/index.html", "second\n");
  server.commit("demo", "second");

  BackgroundPush push(server, "demo");
  // The release is about to go live: the hook has recorded the push in flight.
  REQUIRE(wait_for_file(server.app_dir("demo") / "push.inflight", 60s));
  push.interrupt();
  CHECK_FALSE(push.wait().ok());

  check_consistent(server, "demo");
  CHECK(server.branch("demo") == before);
  auto releases = server.releases("demo");
  CHECK(releases[0]["status"] == "failed");
  CHECK(server.serves("demo", "hello from demo"));
  // The next push deploys.
  auto again = server.push("demo");
  INFO(again.output);
  CHECK(again.ok());
  CHECK(server.serves("demo", "second"));
  check_consistent(server, "demo");
}

TEST_CASE("^C at 20 random moments of a push never leaves git and the live release apart",
          "[faults]") {
  Server server({.config = "[runtime]\nhealth_timeout = \"10s\"\nstop_grace = \"1s\"\n"});
  server.create("demo");
  REQUIRE(server.push("demo").ok());
  // How long a push takes here, to spread the interruptions over it.
  server.commit("demo", "timing");
  auto started = std::chrono::steady_clock::now();
  REQUIRE(server.push("demo").ok());
  auto typical = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  std::mt19937 random(20261202);
  std::uniform_int_distribution<long> moment(0, typical.count() + 200);
  for (int round = 1; round <= 20; ++round) {
    server.write("demo", "www/index.html", fmt::format("round {}\n", round));
    server.commit("demo", fmt::format("round {}", round));
    BackgroundPush push(server, "demo");
    std::this_thread::sleep_for(std::chrono::milliseconds(moment(random)));
    push.interrupt();
    push.wait();
    INFO("round " << round);
    check_consistent(server, "demo");
  }
  server.write("demo", "www/index.html", "after the storm\n");
  server.commit("demo", "after");
  auto last = server.push("demo");
  INFO(last.output);
  CHECK(last.ok());
  CHECK(server.serves("demo", "after the storm"));
  check_consistent(server, "demo");
}

TEST_CASE("locks a receive-pack killed mid-update left on the branch are cleared by the next "
          "operation",
          "[faults]") {
  Server server;
  server.create("demo");
  REQUIRE(server.push("demo").ok());
  std::string before = server.branch("demo");
  // What git receive-pack leaves when it is killed between locking the branch (and HEAD,
  // for its reflog) and committing: lock files that refuse every later update.
  fs::path repo = server.root / "repos/demo.git";
  write_file(repo / "HEAD.lock", "");
  server.write("demo", "www/index.html", "second\n");
  server.commit("demo", "second");
  auto refused = server.push("demo");
  INFO(refused.output);
  CHECK_FALSE(refused.ok());
  CHECK(contains(refused.output, "HEAD.lock"));
  // The release that went live for it is rolled back (here by the daemon's sweep), and
  // the lock its dead receive-pack could have left is removed.
  check_consistent(server, "demo");
  CHECK(server.branch("demo") == before);
  CHECK(server.serves("demo", "hello from demo"));
  CHECK_FALSE(fs::exists(repo / "HEAD.lock"));
  CHECK(contains(server.slipway({"logs", "-a", "demo", "-n", "100"}).output, "Removed HEAD.lock"));

  auto again = server.push("demo");
  INFO(again.output);
  CHECK(again.ok());
  CHECK(server.serves("demo", "second"));
  check_consistent(server, "demo");
}

TEST_CASE("a stopped daemon makes commands fail with a deadline, and a push leaves nothing "
          "pending",
          "[faults]") {
  Server server;
  server.create("demo");
  REQUIRE(server.push("demo").ok());
  ::kill(server.daemon.pid(), SIGSTOP);
  auto started = std::chrono::steady_clock::now();
  auto ps = server.slipway({"ps", "-a", "demo"});
  CHECK_FALSE(ps.ok());
  CHECK(contains(ps.output, "the daemon went silent for 10s"));
  CHECK(std::chrono::steady_clock::now() - started < 20s);

  server.write("demo", "www/index.html", "second\n");
  server.commit("demo", "second");
  auto pushed = server.push("demo");
  INFO(pushed.output);
  CHECK_FALSE(pushed.ok());
  CHECK(contains(pushed.output, "the daemon went silent"));
  ::kill(server.daemon.pid(), SIGCONT);
  check_consistent(server, "demo");
  CHECK(server.serves("demo", "hello from demo"));
  auto again = server.push("demo");
  INFO(again.output);
  CHECK(again.ok());
  CHECK(server.serves("demo", "second"));
}

TEST_CASE("a deleted or damaged current is repaired from the records, config and code kept",
          "[faults]") {
  Server server;
  server.create("demo");
  auto pushed = server.push("demo");
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  REQUIRE(server.slipway({"config:set", "-a", "demo", "KEEP=me"}).ok());
  for (const char* damage : {"missing", "dangling", "a file"}) {
    SECTION(damage) {
      fs::path current = server.app_dir("demo") / "current";
      fs::remove(current);
      if (std::string(damage) == "dangling") {
        fs::create_symlink("releases/v99", current);
      } else if (std::string(damage) == "a file") {
        write_file(current, "not a link");
      }
      auto set = server.slipway({"config:set", "-a", "demo", "MORE=too"});
      INFO(set.output);
      CHECK(set.ok());
      // Repaired by this operation, or a moment earlier by the daemon's sweep.
      CHECK(contains(server.slipway({"logs", "-a", "demo", "-n", "100"}).output,
                     "Repaired apps/demo/current"));
      auto config = server.slipway({"config", "-a", "demo"});
      CHECK(contains(config.output, "KEEP='me'"));
      CHECK(contains(config.output, "MORE='too'"));
      CHECK(server.releases("demo")[0]["slug"] == server.releases("demo")[1]["slug"]);
      server.write("demo", "www/index.html", "pushed\n");
      server.commit("demo", "pushed after the repair");
      REQUIRE(server.push("demo").ok());
      CHECK(contains(server.slipway({"config", "-a", "demo"}).output, "KEEP='me'"));
      CHECK(server.serves("demo", "pushed"));
    }
  }
}

TEST_CASE("nginx's master killed with SIGKILL is replaced and its orphaned workers go",
          "[faults]") {
  Server server;
  server.create("demo");
  REQUIRE(server.push("demo").ok());
  for (int round = 0; round < 3; ++round) {
    int master = nginx_master(server);
    REQUIRE(master > 0);
    long started = process_start_time(master);
    ::kill(master, SIGKILL);
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline &&
           (nginx_master(server) == 0 || nginx_master(server) == master)) {
      std::this_thread::sleep_for(50ms);
    }
    CHECK(server.serves("demo", "hello from demo"));
    // No worker of the killed master is left (pids are reused: only its own count; a dead
    // one may stay a zombie until init reaps it).
    std::vector<std::string> orphans;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
      std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      auto stat = process_stat(std::stoi(name));
      if (stat && stat->pgid == master && stat->ppid != master && stat->start_time >= started &&
          stat->comm.starts_with("nginx") && stat->state != 'Z') {
        orphans.push_back(name);
      }
    }
    CHECK(orphans.empty());
  }
  server.write("demo", "www/index.html", "still deploys\n");
  server.commit("demo", "after nginx died");
  CHECK(server.push("demo").ok());
  CHECK(server.serves("demo", "still deploys"));
  CHECK_FALSE(contains(server.daemon.log(), "Address already in use\n20"));
}

TEST_CASE("nginx and the daemon killed at random moments under load leave every app "
          "consistent",
          "[faults]") {
  Server server({.config = "[runtime]\nhealth_timeout = \"10s\"\nstop_grace = \"1s\"\n"});
  server.create("demo");
  REQUIRE(server.push("demo").ok());
  std::atomic<bool> stop = false;
  std::thread load([&] {
    while (!stop) {
      server.get("demo");
    }
  });
  std::mt19937 random(42);
  for (int round = 1; round <= 6; ++round) {
    INFO("round " << round);
    server.write("demo", "www/index.html", fmt::format("round {}\n", round));
    server.commit("demo", fmt::format("round {}", round));
    BackgroundPush push(server, "demo");
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 1500));
    if (round % 2 == 0) {
      server.daemon.kill();
      push.wait();
      server.daemon.start();
    } else {
      ::kill(nginx_master(server), SIGKILL);
      push.wait();
    }
    check_consistent(server, "demo");
    CHECK(server.serves("demo", "")); // whichever release is live answers
  }
  stop = true;
  load.join();
  server.write("demo", "www/index.html", "calm again\n");
  server.commit("demo", "calm");
  auto last = server.push("demo");
  INFO(last.output);
  CHECK(last.ok());
  CHECK(server.serves("demo", "calm again"));
  check_consistent(server, "demo");
}

TEST_CASE("a .slugignore made to backtrack is matched in linear time", "[faults]") {
  Server server({.config = "[build]\ntimeout = \"20s\"\n"});
  server.create("demo");
  std::string deep = "a";
  for (int level = 0; level < 30; ++level) {
    deep += "/a";
  }
  server.write("demo", deep + "/file", "x\n");
  // fnmatch with backtracking over '**' tries every way to spread 31 directories over 12
  // wildcards: hundreds of millions of matches.
  std::string pattern;
  for (int i = 0; i < 12; ++i) {
    pattern += "**/a*/";
  }
  server.write("demo", ".slugignore", pattern + "never-there\n");
  server.commit("demo", "a pathological .slugignore");
  auto started = std::chrono::steady_clock::now();
  auto pushed = server.push("demo");
  INFO(pushed.output);
  CHECK(pushed.ok());
  CHECK(std::chrono::steady_clock::now() - started < 15s);
}

TEST_CASE("a full disk stops one build, not the others' config changes and rollbacks", "[faults]") {
  if (geteuid() != 0) {
    WARN("mounting a small filesystem needs root: skipped");
    return;
  }
  TempDir mount_point;
  if (::mount("tmpfs", mount_point.path().c_str(), "tmpfs", 0, "size=160m,mode=0711") != 0) {
    WARN("cannot mount a small filesystem here (" << std::strerror(errno) << "): skipped");
    return;
  }
  struct Unmount {
    fs::path at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{mount_point.path()};
  {
    Server server({.config = "[build]\nmax_disk = \"40MB\"\nmin_free_disk = \"60MB\"\n"
                             "local_buildpacks = [\"@DIR@/buildpacks\"]\n"});
    // The server's root moves onto the small filesystem.
    server.daemon.stop();
    fs::copy(server.root, mount_point.path() / "root", fs::copy_options::recursive);
    REQUIRE(remove_tree(server.root));
    fs::create_symlink(mount_point.path() / "root", server.root);
    server.daemon.start();

    server.create("filler");
    server.use_buildpack("filler", server.buildpack("filler", "for i in $(seq 1 30); do head -c "
                                                              "10000000 /dev/zero > /app/f.$i || "
                                                              "exit 1; sleep 0.1; done\n"));
    server.create("other");
    REQUIRE(server.push("other").ok());
    server.write("other", "www/index.html", "other v2\n");
    server.commit("other", "v2");
    REQUIRE(server.push("other").ok());

    auto filled = server.push("filler");
    INFO(filled.output);
    CHECK_FALSE(filled.ok());
    CHECK(fs::is_empty(server.app_dir("filler") / "tmp"));

    // Now the disk is nearly full for real: deploys refuse, config and rollback work.
    auto free = free_disk(mount_point.path());
    REQUIRE(free);
    std::uint64_t leave = 30ull << 20;
    REQUIRE(*free > leave);
    REQUIRE(run_program({"fallocate", "-l", std::to_string(*free - leave),
                         (mount_point.path() / "ballast").string()})
                .ok());
    server.write("other", "www/index.html", "other v3\n");
    server.commit("other", "v3");
    auto refused = server.push("other");
    INFO(refused.output);
    CHECK(contains(refused.output, "not enough free disk space to build"));
    CHECK(server.slipway({"config:set", "-a", "other", "STILL=works"}).ok());
    CHECK(server.slipway({"rollback", "-a", "other"}).ok()); // to the push of v2
    CHECK(server.serves("other", "other v2"));
    fs::remove(mount_point.path() / "ballast");
    CHECK(server.push("other").ok());
    CHECK(server.serves("other", "other v3"));
    check_consistent(server, "other");
    server.daemon.stop();
  }
}
