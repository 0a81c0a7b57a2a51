// A whole slipway server for end-to-end tests: a root with its daemon and nginx on a free
// loopback port, git work trees to push apps from, and the same commands a user types. It
// can run everything (slipway, git, the daemon) as an unprivileged uid instead of root, to
// show that what holds for root holds for a `git` user too.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/owner.hpp"
#include "common/subprocess.hpp"
#include "tests/support/test_support.hpp"

namespace slipway::test {

struct ServerOptions {
  std::optional<Owner> user; // run slipway, git and the daemon as this uid, not root
  // slipway.toml after [server] (sections of its own); "@DIR@" stands for Server::dir.
  std::string config = "[runtime]\nhealth_timeout = \"10s\"\nstop_grace = \"3s\"\n";
  bool start_daemon = true;
};

// The uid that "as an unprivileged user" runs use: no passwd entry needed.
inline constexpr Owner k_test_user{54321, 54321};

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server(); // stops the daemon, then removes the cgroups its apps left
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  TempDir dir;
  std::filesystem::path root;
  int http_port;
  DaemonProcess daemon;

  // Runs a program as the server's user (root, or ServerOptions::user).
  ExitStatus run(const std::vector<std::string>& argv, const std::filesystem::path& cwd = {},
                 std::chrono::milliseconds timeout = std::chrono::minutes(5)) const;
  ExitStatus slipway(std::vector<std::string> args) const;

  // apps:create APP and a git work tree for it at dir/APP, filled from `fixture_dir` (or a
  // Procfile-only app answering "hello from APP") and committed.
  void create(const std::string& app, const std::filesystem::path& fixture_dir = {});
  std::filesystem::path work(const std::string& app) const { return dir / ("work-" + app); }
  // A file in the app's work tree, as the server's user.
  void write(const std::string& app, const std::string& relative, const std::string& content,
             int mode = 0644) const;
  std::string git(const std::string& app, std::vector<std::string> args) const;
  std::string commit(const std::string& app, const std::string& message) const;
  // git push of the work tree's main to the app's repository.
  ExitStatus push(const std::string& app) const;
  Command push_command(const std::string& app) const;

  // A buildpack at dir/buildpacks/NAME (allow it with local_buildpacks = ["@DIR@/buildpacks"]):
  // bin/detect claims every app, bin/compile is the shell script `compile`, bin/release
  // prints `release_yaml` (none when empty).
  std::filesystem::path buildpack(const std::string& name, const std::string& compile,
                                  const std::string& release_yaml = "") const;
  // The app's .buildpacks names `buildpack`, committed.
  void use_buildpack(const std::string& app, const std::filesystem::path& buildpack) const;

  HttpResponse get(const std::string& app, const std::string& path = "/") const;
  // Waits until the app serves a body that contains `text`.
  bool serves(const std::string& app, const std::string& text,
              std::chrono::milliseconds wait = std::chrono::seconds(20)) const;
  // The same for a request to the host name `host`.
  bool host_serves(const std::string& host, const std::string& text,
                   std::chrono::milliseconds wait = std::chrono::seconds(20)) const;

  nlohmann::json releases(const std::string& app) const;
  // The commit refs/heads/main names in the app's repository ("" when none).
  std::string branch(const std::string& app) const;
  // The commit of the release `current` names ("" when none).
  std::string live_commit(const std::string& app) const;
  // Waits until no release is pending and no push is in flight; false if that never came.
  bool settled(const std::string& app,
               std::chrono::milliseconds wait = std::chrono::seconds(30)) const;

  std::filesystem::path app_dir(const std::string& app) const { return root / "apps" / app; }
  const std::optional<Owner>& user() const { return m_options.user; }

 private:
  Command as_user(Command command) const;
  ServerOptions m_options;
  PortBlock m_ports; // the apps' [runtime].port_range
};

// A C program compiled by the test (gcc), for probes that must not depend on a runtime.
std::filesystem::path compile_c(const std::filesystem::path& dir, const std::string& name,
                                const std::string& source, const std::vector<std::string>& flags);

} // namespace slipway::test
