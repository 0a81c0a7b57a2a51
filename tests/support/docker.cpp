#include "tests/support/docker.hpp"

#include <csignal>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>

namespace slipway::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Child::Child(std::vector<std::string> argv, const fs::path& log) {
  argv.insert(argv.begin(), {"sh", "-c", "exec \"$0\" \"$@\" > '" + log.string() + "' 2>&1"});
  auto spawned =
      spawn({.argv = std::move(argv)}, {.capture_output = false, .new_process_group = true});
  REQUIRE(spawned);
  m_process = *spawned;
}

Child::~Child() {
  if (m_process.pid <= 0) {
    return;
  }
  ::kill(m_process.pid, SIGTERM);
  for (int i = 0; i < 100 && ::waitpid(m_process.pid, nullptr, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  ::kill(-m_process.pid, SIGKILL);
  ::waitpid(m_process.pid, nullptr, 0);
  ::close(m_process.pidfd);
}

bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) {
      return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return ready();
}

void make_rootfs(const fs::path& rootfs) {
  auto made = run_program({(fs::path(SLIPWAY_TESTS) / "tools/host-rootfs").string(), rootfs.string()});
  INFO(made.output);
  REQUIRE(made.ok());
}

Registry::Registry(const fs::path& dir) : m_port(free_port()) {
  fs::create_directories(dir);
  write_file(dir / "registry.yml",
             fmt::format("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\n"
                         "http:\n  addr: 127.0.0.1:{}\n",
                         (dir / "data").string(), m_port));
  m_child = std::make_unique<Child>(
      std::vector<std::string>{"docker-registry", "serve", (dir / "registry.yml").string()},
      dir / "registry.log");
  REQUIRE(wait_until([&] { return run_program({"curl", "-sf", url() + "/v2/"}).ok(); }, 20s));
}

std::string Registry::url() const {
  return fmt::format("http://127.0.0.1:{}", m_port);
}

Dockerd::Dockerd(const fs::path& log, bool swarm) {
  std::vector<std::string> argv = {"dockerd",
                                   "--data-root",
                                   (m_dir / "data").string(),
                                   "--exec-root",
                                   (m_dir / "exec").string(),
                                   "-H",
                                   host(),
                                   "--pidfile",
                                   (m_dir / "d.pid").string()};
  if (!swarm) {
    // No bridge of its own, so engines of tests that run at once do not meet on docker0:
    // its containers use the host's network.
    argv.insert(argv.end(), {"--iptables=false", "--bridge=none"});
  }
  m_child = std::make_unique<Child>(argv, log);
  REQUIRE(wait_until([&] { return docker({"version"}).ok(); }, 30s));
  if (swarm) {
    auto joined = docker({"swarm", "init", "--advertise-addr", "127.0.0.1"});
    INFO(joined.output);
    REQUIRE(joined.ok());
  }
}

Dockerd::~Dockerd() {
  // Its services first: their containers go before the engine stops.
  docker({"swarm", "leave", "--force"});
  m_child.reset();
}

ExitStatus Dockerd::docker(std::vector<std::string> args) const {
  args.insert(args.begin(), "docker");
  auto result = run({.argv = args, .env = {{"DOCKER_HOST", host()}}, .timeout = 3min});
  REQUIRE(result);
  return *result;
}

nlohmann::json Dockerd::api(const std::string& path) const {
  auto answer = run_program(
      {"curl", "-s", "--unix-socket", (m_dir / "d.sock").string(), "http://docker/v1.41" + path});
  return nlohmann::json::parse(answer.output, nullptr, false);
}

} // namespace slipway::test
