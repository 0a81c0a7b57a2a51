// What the image and cluster tests start for themselves: a Docker engine (dockerd with its own
// data and exec roots and socket, optionally a one-node swarm on loopback), Debian's
// docker-registry on a free loopback port, and a stack's root filesystem made from the host's
// own bash and python3. Each is stopped by pid when the test ends.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/subprocess.hpp"
#include "tests/support/test_support.hpp"

namespace slipway::test {

// A child process of the test in a process group of its own, stopped when this goes:
// SIGTERM, up to 10 s, then SIGKILL to its whole group.
class Child {
 public:
  // Starts `argv` with its output in `log`.
  Child(std::vector<std::string> argv, const std::filesystem::path& log);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  int pid() const { return m_process.pid; }

 private:
  SpawnedProcess m_process;
};

// Until `ready` is true, at most `limit`.
bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds limit);

// A root filesystem with the host's bash, sh, cat, curl and python3 (their libraries and
// python's standard library): a stack the built-in python buildpack's slugs run on, in a few
// megabytes, where debootstrap would need the network.
void make_rootfs(const std::filesystem::path& rootfs);

// docker-registry serving http://127.0.0.1:PORT from a directory of `dir`.
class Registry {
 public:
  explicit Registry(const std::filesystem::path& dir);
  int port() const { return m_port; }
  std::string url() const; // "http://127.0.0.1:PORT"

 private:
  int m_port;
  std::unique_ptr<Child> m_child;
};

// dockerd on a socket of its own (a short temp path: a socket's path must fit sockaddr_un).
class Dockerd {
 public:
  // `swarm`: `docker swarm init --advertise-addr 127.0.0.1` once it answers.
  explicit Dockerd(const std::filesystem::path& log, bool swarm = false);
  ~Dockerd();
  std::string host() const { return "unix://" + (m_dir / "d.sock").string(); }
  // `docker ARGS...` against this engine.
  ExitStatus docker(std::vector<std::string> args) const;
  // GET PATH of its Engine API, as JSON.
  nlohmann::json api(const std::string& path) const;

 private:
  TempDir m_dir;
  std::unique_ptr<Child> m_child;
};

} // namespace slipway::test
