// The daemon's end-to-end harness: a root with the `versioned` app pushed from a git work
// tree, its daemon and nginx, and a load that requests the app without pause.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.hpp"

namespace slipway::test::daemon_e2e {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// A root with the `versioned` app pushed from a git work tree, and its daemon.
struct Server {
  TempDir dir;
  fs::path root = dir / "root";
  fs::path work = dir / "work";
  int http_port = free_port();
  PortBlock ports; // the apps'
  DaemonProcess daemon{root};

  Server() {
    REQUIRE(
        slipway({"init", "--http-port", std::to_string(http_port), "--api-listen", "127.0.0.1:0"})
            .ok());
    // Loopback only, and short waits so the failure cases finish quickly.
    std::string config = read_text(root / "slipway.toml");
    config.replace(config.find("[server]\n"), 9, "[server]\nhttp_address = \"127.0.0.1\"\n");
    write_file(root / "slipway.toml",
               config + fmt::format("[runtime]\nhealth_timeout = \"4s\"\nstop_grace = \"3s\"\n"
                                    "port_range = \"{}-{}\"\n",
                                    ports.low(), ports.high()));
    REQUIRE(slipway({"apps:create", "demo"}).ok());
    fs::copy(fixture("apps/versioned"), work, fs::copy_options::recursive);
    git({"init", "-q", "-b", "main"});
    daemon.start();
  }

  ExitStatus slipway(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--root", root.string()});
    return run_slipway(args);
  }
  void git(std::vector<std::string> args) const {
    args.insert(args.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@example.com"});
    auto status = run_program(args, work);
    INFO(status.output);
    REQUIRE(status.ok());
  }
  // Commits the work tree with version.txt = `version` and pushes it.
  ExitStatus push(const std::string& version) const {
    write_file(work / "version.txt", version + "\n");
    git({"add", "-A"});
    git({"commit", "-qm", version, "--allow-empty"});
    return run_program({"git", "push", "-q", (root / "repos/demo.git").string(), "main"}, work);
  }
  HttpResponse get(const std::string& path = "/",
                   const std::string& host = "demo.localhost") const {
    return http_request(http_port, host, path);
  }
  json ps() const {
    auto status = slipway({"ps", "-a", "demo", "--json"});
    INFO(status.output);
    REQUIRE(status.ok());
    return json::parse(status.output);
  }
  json releases() const {
    return json::parse(slipway({"releases", "-a", "demo", "--json", "-n", "0"}).output);
  }
  // Waits until the app serves a body starting with `prefix`.
  bool serves(const std::string& prefix, std::chrono::milliseconds wait = 15s) const {
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (get().body.starts_with(prefix)) {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

// Requests without pause from another thread, counting failures and what answered.
class Load {
 public:
  explicit Load(const Server& server) : Load([&server] { return server.get(); }) {}
  // `request`: one request, made again and again.
  explicit Load(std::function<HttpResponse()> request)
      : m_thread([this, request = std::move(request)] {
          while (!m_stop) {
            auto response = request();
            std::lock_guard lock(m_mutex);
            ++m_requests;
            if (response.status != 200) {
              ++m_failures;
              m_problems.insert(std::to_string(response.status) + " " + response.body);
            } else {
              m_bodies.insert(response.body.substr(0, response.body.find('\n')));
            }
          }
        }) {}
  ~Load() { finish(); }

  void finish() {
    m_stop = true;
    if (m_thread.joinable()) {
      m_thread.join();
    }
  }
  long requests() const { return m_requests; }
  long failures() const { return m_failures; }
  std::set<std::string> bodies() const { return m_bodies; }
  std::string problems() const {
    std::string out;
    for (const auto& problem : m_problems) {
      out += problem + "\n";
    }
    return out;
  }

 private:
  std::atomic<bool> m_stop{false};
  mutable std::mutex m_mutex;
  long m_requests = 0;
  long m_failures = 0;
  std::set<std::string> m_bodies;
  std::set<std::string> m_problems;
  std::thread m_thread;
};

} // namespace slipway::test::daemon_e2e
