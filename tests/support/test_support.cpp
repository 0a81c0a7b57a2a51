#include "tests/support/test_support.hpp"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/file.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/tree.hpp"
#include "runtime/daemon_client.hpp"
#include "runtime/layout.hpp"

namespace slipway::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "slipway-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) {
    throw std::runtime_error("mkdtemp failed");
  }
  m_path = pattern;
  // As root, sandboxes run as the app's own uid, which must be able to pass through.
  fs::permissions(m_path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
}

TempDir::~TempDir() {
  [[maybe_unused]] auto removed = remove_tree(m_path);
}

void write_file(const fs::path& path, const std::string& content, int mode) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  fs::permissions(path, static_cast<fs::perms>(mode));
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

fs::path fixture(const std::string& relative) {
  return fs::path(SLIPWAY_FIXTURES) / relative;
}

fs::path slipway_binary() {
  // Another build of slipway, to show that a test fails without the fix it covers.
  if (const char* other = std::getenv("SLIPWAY_TEST_BIN"); other && *other) {
    return other;
  }
  return SLIPWAY_BIN;
}

ExitStatus run_program(const std::vector<std::string>& argv, const fs::path& cwd,
                       std::chrono::milliseconds timeout) {
  Command command;
  command.argv = argv;
  command.cwd = cwd;
  command.timeout = timeout;
  auto status = run(command);
  if (!status) {
    throw std::runtime_error(status.error().message);
  }
  return *status;
}

ExitStatus run_slipway(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env,
                       std::chrono::milliseconds timeout) {
  Command command;
  command.argv = {slipway_binary().string()};
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.env = env;
  command.timeout = timeout;
  auto status = run(command);
  if (!status) {
    throw std::runtime_error(status.error().message);
  }
  return *status;
}

PortBlock::PortBlock() {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "slipway-test-ports";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (int slot = 0; slot < 120; ++slot) {
    auto file = dir / std::to_string(slot);
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      m_fd = fd;
      m_low = 20000 + slot * 100;
      return;
    }
    if (fd >= 0) {
      ::close(fd);
    }
  }
  throw std::runtime_error("no free block of test ports in " + dir.string());
}

PortBlock::~PortBlock() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

HttpResponse http_get(int port, const std::string& path, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  while (true) {
    auto result = run_program({"curl", "-s", "-m", "5", "-w", "\n%{http_code}", url}, {},
                              std::chrono::seconds(10));
    if (result.code == 0) {
      std::string& out = result.output;
      // The body, a newline, then the status; output adds a trailing newline.
      while (!out.empty() && out.back() == '\n') {
        out.pop_back();
      }
      auto split = out.rfind('\n');
      HttpResponse response;
      response.status = std::stoi(out.substr(split + 1));
      response.body = split == std::string::npos ? "" : out.substr(0, split);
      return response;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

HttpResponse http_request(int port, const std::string& host, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    HttpResponse failed{.status = 0, .body = std::string("connect: ") + std::strerror(errno)};
    close(fd);
    return failed;
  }
  std::string request =
      "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\nUser-Agent: slipway-test\r\n\r\n";
  std::string received;
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(request.size())) {
    char buffer[8192];
    ssize_t n = 0;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) {
      received.append(buffer, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  HttpResponse response;
  if (!received.starts_with("HTTP/1.") || received.size() < 12) {
    response.body = received.empty() ? "no answer" : received;
    return response;
  }
  response.status = std::stoi(received.substr(9, 3));
  auto body = received.find("\r\n\r\n");
  response.body = body == std::string::npos ? "" : received.substr(body + 4);
  return response;
}

DaemonProcess::DaemonProcess(std::filesystem::path root, std::optional<Owner> user)
    : m_root(std::move(root)), m_user(user) {}

DaemonProcess::~DaemonProcess() {
  if (m_process.pid > 0) {
    stop();
  }
}

void DaemonProcess::start() {
  std::string log = (m_root.parent_path() / "daemon.log").string();
  Command command{.argv = {"/bin/sh", "-c", "exec \"$0\" --root \"$1\" daemon >>\"$2\" 2>&1",
                           slipway_binary().string(), m_root.string(), log}};
  if (m_user) {
    command.child.user = m_user;
    command.env["HOME"] = m_root.parent_path().string();
  }
  auto started = spawn(command, {.capture_output = true});
  REQUIRE(started);
  m_process = *started;
  close(m_process.output_fd);
  m_process.output_fd = -1;
  Layout layout(m_root);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto answer = daemon_status(layout);
    if (answer && *answer) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO(this->log());
  FAIL("the daemon did not start within 30s");
}

int DaemonProcess::stop() {
  if (m_process.pid <= 0) {
    return -1;
  }
  ::kill(m_process.pid, SIGTERM);
  auto status = wait_spawned(m_process);
  m_process = {};
  return status.code;
}

void DaemonProcess::kill() {
  ::kill(m_process.pid, SIGKILL);
  wait_spawned(m_process);
  m_process = {};
}

std::string DaemonProcess::log() const {
  std::ifstream in(m_root.parent_path() / "daemon.log");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace slipway::test
