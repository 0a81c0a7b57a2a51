// What the tests share: scratch dirs, the real binary, free loopback ports, HTTP GETs.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/subprocess.hpp"

namespace slipway::test {

// A fresh directory under $TMPDIR, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

void write_file(const std::filesystem::path& path, const std::string& content, int mode = 0644);
std::string read_text(const std::filesystem::path& path);

std::filesystem::path fixture(const std::string& relative); // tests/fixtures/<relative>
std::filesystem::path slipway_binary();

// Runs the real `slipway` binary with `args`; output merged, exit status returned.
ExitStatus run_slipway(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env = {},
                       std::chrono::milliseconds timeout = std::chrono::minutes(10));

// Runs any program (argv) and returns its status and merged output.
ExitStatus run_program(const std::vector<std::string>& argv, const std::filesystem::path& cwd = {},
                       std::chrono::milliseconds timeout = std::chrono::minutes(5));

// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_port();

// 100 ports of 20000-31999 (below the ephemeral range) that no other test process holds
// while this object lives: each test server gives its apps a block of its own, so that
// tests side by side never start two web processes on one port.
class PortBlock {
 public:
  PortBlock();
  ~PortBlock();
  PortBlock(const PortBlock&) = delete;
  PortBlock& operator=(const PortBlock&) = delete;
  int low() const { return m_low; }
  int high() const { return m_low + 99; }

 private:
  int m_fd = -1;
  int m_low = 0;
};

// GET http://127.0.0.1:PORT/PATH with curl, retrying until it answers or `wait` passes.
struct HttpResponse {
  int status = 0; // 0: no answer
  std::string body;
};
HttpResponse http_get(int port, const std::string& path = "/",
                      std::chrono::milliseconds wait = std::chrono::seconds(30));

// One GET of http://127.0.0.1:PORT/PATH with a Host header, over a raw socket (fast enough
// to keep a server busy); status 0 and the reason in `body` when there was no answer.
HttpResponse http_request(int port, const std::string& host, const std::string& path = "/");

// `slipway --root ROOT daemon`, started by the test and stopped by pid (SIGTERM, or SIGKILL
// with kill()). Its output goes to ROOT/../daemon.log.
class DaemonProcess {
 public:
  // `user`: run it as that uid instead of root.
  explicit DaemonProcess(std::filesystem::path root, std::optional<Owner> user = {});
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  void start(); // returns once the daemon answers on its socket
  int stop();   // SIGTERM; returns its exit code
  void kill();  // SIGKILL, as a crash
  std::string log() const;

 private:
  std::filesystem::path m_root;
  std::optional<Owner> m_user;
  SpawnedProcess m_process;

 public:
  int pid() const { return m_process.pid; }
};

bool contains(const std::string& haystack, const std::string& needle);

} // namespace slipway::test
