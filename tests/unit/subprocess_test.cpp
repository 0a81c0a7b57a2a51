#include <chrono>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/proc.hpp"
#include "common/subprocess.hpp"
#include "common/time.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace std::chrono_literals;

namespace {

ExitStatus must_run(Command command) {
  auto status = run(command);
  REQUIRE(status);
  return *status;
}

// Alive and not a zombie waiting for a reaper.
bool process_alive(pid_t pid) {
  std::string stat = test::read_text("/proc/" + std::to_string(pid) + "/stat");
  auto state = stat.rfind(") ");
  return state != std::string::npos && stat[state + 2] != 'Z';
}

} // namespace

TEST_CASE("a command's exit status and merged output are reported", "[subprocess]") {
  auto status = must_run({.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}});
  CHECK(status.code == 3);
  CHECK_FALSE(status.ok());
  CHECK(status.output == "out\nerr\n");
  CHECK(status.describe() == "exited with status 3");
}

TEST_CASE("output lines reach the callback one at a time as they come", "[subprocess]") {
  std::vector<std::string> lines;
  std::vector<std::chrono::steady_clock::time_point> when;
  must_run({.argv = {"sh", "-c", "echo one; sleep 0.5; printf 'two\\r\\nthree'"},
            .on_line = [&](std::string_view line) {
              lines.emplace_back(line);
              when.push_back(std::chrono::steady_clock::now());
            }});
  REQUIRE(lines == std::vector<std::string>{"one", "two", "three"});
  CHECK(when[1] - when[0] > 300ms); // the first line was not held back until the end
}

TEST_CASE("stderr can be kept apart from stdout", "[subprocess]") {
  std::vector<std::string> errors;
  auto status =
      must_run({.argv = {"sh", "-c", "echo out; echo err >&2"},
                .on_stderr_line = [&](std::string_view line) { errors.emplace_back(line); }});
  CHECK(status.output == "out\n");
  CHECK(errors == std::vector<std::string>{"err"});
}

TEST_CASE("environment can be added, removed and cleared", "[subprocess]") {
  setenv("SLIPWAY_TEST_INHERITED", "yes", 1);
  auto inherited = must_run({.argv = {"sh", "-c", "echo \"$SLIPWAY_TEST_INHERITED:$ADDED\""},
                             .env = {{"ADDED", "a=b c"}}});
  CHECK(inherited.output == "yes:a=b c\n");
  auto removed = must_run({.argv = {"sh", "-c", "echo \"${SLIPWAY_TEST_INHERITED-unset}\""},
                           .env_remove = {"SLIPWAY_TEST_INHERITED"}});
  CHECK(removed.output == "unset\n");
  auto cleared = must_run({.argv = {"/usr/bin/env"}, .env = {{"ONLY", "1"}}, .clear_env = true});
  CHECK(cleared.output == "ONLY=1\n");
}

TEST_CASE("stdin data and the working directory are given to the child", "[subprocess]") {
  test::TempDir dir;
  auto status = must_run({.argv = {"sh", "-c", "pwd; cat"},
                          .cwd = dir.path(),
                          .stdin_data = std::string("line one\nline two\n")});
  CHECK(status.output == dir.path().string() + "\nline one\nline two\n");
  auto no_stdin = must_run({.argv = {"cat"}});
  CHECK(no_stdin.output.empty());
}

TEST_CASE("a timeout kills the whole process group, background children included", "[subprocess]") {
  test::TempDir dir;
  auto pid_file = dir / "background.pid";
  auto start = std::chrono::steady_clock::now();
  auto status = must_run(
      {.argv = {"sh", "-c", "sleep 1000 & echo $! > " + pid_file.string() + "; sleep 1000"},
       .timeout = 500ms});
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(status.timed_out);
  CHECK_FALSE(status.ok());
  CHECK(status.describe(15min) == "timed out after 15m");
  pid_t background = std::stoi(test::read_text(pid_file));
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(process_alive(background));
}

TEST_CASE("a background job left behind does not keep the caller waiting", "[subprocess]") {
  auto start = std::chrono::steady_clock::now();
  auto status = must_run({.argv = {"sh", "-c", "sleep 1000 & echo started"}});
  CHECK(status.ok());
  CHECK(status.output == "started\n");
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("a child killed by a signal reports the signal", "[subprocess]") {
  auto status = must_run({.argv = {"sh", "-c", "kill -TERM $$"}});
  CHECK(status.signal == SIGTERM);
  CHECK(status.code == 128 + SIGTERM);
  CHECK(status.describe() == "was killed by signal 15");
}

TEST_CASE("a program that does not exist is an error, not an exit status", "[subprocess]") {
  auto status = run({.argv = {"slipway-no-such-program"}});
  REQUIRE_FALSE(status);
  CHECK(test::contains(status.error().message, "'slipway-no-such-program'"));
  CHECK_FALSE(run({.argv = {}}));
}

TEST_CASE("descriptors the parent holds are not inherited", "[subprocess]") {
  test::TempDir dir;
  int fd = open((dir / "held").c_str(), O_CREAT | O_WRONLY, 0600); // no O_CLOEXEC on purpose
  REQUIRE(fd > 2);
  auto status = must_run({.argv = {"sh", "-c", "ls /proc/self/fd | wc -l"}});
  close(fd);
  // 0, 1, 2 and the fd ls uses to read the directory.
  CHECK(std::stoi(status.output) == 4);
}

TEST_CASE("very long lines are delivered in bounded pieces", "[subprocess]") {
  std::size_t longest = 0;
  std::size_t total = 0;
  must_run({.argv = {"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"},
            .on_line = [&](std::string_view line) {
              longest = std::max(longest, line.size());
              total += line.size();
            }});
  CHECK(total == 300000);
  CHECK(longest <= 64 * 1024);
}

TEST_CASE("durations are printed the way slipway.toml spells them", "[subprocess]") {
  CHECK(format_duration(15min) == "15m");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(1h) == "1h");
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(0ms) == "0s");
}

namespace {

// What a spawned child's /proc/self/status says its ambient capabilities are.
std::string child_ambient_caps(bool keep) {
  auto child = spawn({.argv = {"grep", "CapAmb", "/proc/self/status"}},
                     {.capture_output = true, .keep_capabilities = keep});
  REQUIRE(child);
  std::string output;
  char buffer[256];
  ssize_t n = 0;
  while ((n = read(child->output_fd, buffer, sizeof buffer)) > 0) {
    output.append(buffer, static_cast<std::size_t>(n));
  }
  close(child->output_fd);
  wait_spawned(*child);
  return output;
}

} // namespace

TEST_CASE("spawned children do not inherit ambient capabilities unless asked to", "[subprocess]") {
  // As systemd's AmbientCapabilities=CAP_NET_BIND_SERVICE would give them to the daemon;
  // bubblewrap refuses to run with capabilities it was not given as setuid.
  __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  __user_cap_data_struct data[2]{};
  REQUIRE(syscall(SYS_capget, &header, data) == 0);
  if ((data[0].permitted & (1u << CAP_NET_BIND_SERVICE)) == 0) {
    WARN("not permitted CAP_NET_BIND_SERVICE here (not root?): skipped");
    return;
  }
  data[0].inheritable |= 1u << CAP_NET_BIND_SERVICE;
  REQUIRE(syscall(SYS_capset, &header, data) == 0);
  REQUIRE(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) == 0);
  std::string dropped = child_ambient_caps(false);
  std::string kept = child_ambient_caps(true);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  CHECK(test::contains(dropped, "CapAmb:\t0000000000000000"));
  CHECK(test::contains(kept, "CapAmb:\t0000000000000400"));
}

TEST_CASE("a detached worker outlives the process group of whoever started it", "[subprocess]") {
  test::TempDir dir;
  const auto done = dir / "done";
  // A starter in a process group of its own starts the worker and exits; at once its whole
  // group is killed, as a shell or a test harness ends what a command left behind.
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::filesystem::remove(done);
    pid_t starter = fork();
    REQUIRE(starter >= 0);
    if (starter == 0) {
      setpgid(0, 0);
      auto started = spawn_detached({"/bin/sh", "-c", "sleep 0.2; touch '" + done.string() + "'"});
      _exit(started ? 0 : 1);
    }
    setpgid(starter, starter);
    int status = 0;
    REQUIRE(waitpid(starter, &status, 0) == starter);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    ::kill(-starter, SIGKILL);
    for (int i = 0; i < 100 && !std::filesystem::exists(done); ++i) {
      std::this_thread::sleep_for(20ms);
    }
    INFO("attempt " << attempt);
    REQUIRE(std::filesystem::exists(done));
  }
}
