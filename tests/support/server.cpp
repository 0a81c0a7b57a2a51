#include "tests/support/server.hpp"

#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/cgroup.hpp"
#include "common/tree.hpp"
#include "runtime/layout.hpp"

namespace slipway::test {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

Server::Server(ServerOptions options)
    : root(dir / "root"), http_port(free_port()), daemon(root, options.user),
      m_options(std::move(options)) {
  if (m_options.user) {
    REQUIRE(chown_tree(dir.path(), *m_options.user));
  }
  REQUIRE(slipway({"init", "--http-port", std::to_string(http_port)}).ok());
  // Loopback only, short waits so that failures finish quickly; the API on any free port.
  std::string extra = m_options.config;
  if (auto api = extra.find("[api]\n"); api == std::string::npos) {
    extra += "\n[api]\nlisten = \"127.0.0.1:0\"\n";
  } else if (extra.find("listen = ") == std::string::npos) {
    extra.insert(api + 6, "listen = \"127.0.0.1:0\"\n");
  }
  for (auto at = extra.find("@DIR@"); at != std::string::npos; at = extra.find("@DIR@")) {
    extra.replace(at, 5, dir.path().string());
  }
  std::string ports = fmt::format("port_range = \"{}-{}\"\n", m_ports.low(), m_ports.high());
  if (auto runtime = extra.find("[runtime]\n"); runtime != std::string::npos) {
    extra.insert(runtime + 10, ports);
  } else {
    extra += "\n[runtime]\n" + ports;
  }
  write_file(
      root / "slipway.toml",
      fmt::format("[server]\nhttp_port = {}\nhttp_address = \"127.0.0.1\"\n{}", http_port, extra));
  if (m_options.user) {
    REQUIRE(chown_tree(root, *m_options.user));
  }
  if (m_options.start_daemon) {
    daemon.start();
  }
}

Server::~Server() {
  daemon.stop();
  remove_stale_cgroups(Layout(root).id());
}

Command Server::as_user(Command command) const {
  command.env.insert_or_assign("HOME", dir.path().string());
  command.env.insert_or_assign("GIT_CONFIG_NOSYSTEM", std::string("1"));
  if (m_options.user) {
    command.child.user = m_options.user;
  }
  return command;
}

ExitStatus Server::run(const std::vector<std::string>& argv, const fs::path& cwd,
                       std::chrono::milliseconds timeout) const {
  auto status = slipway::run(as_user({.argv = argv, .cwd = cwd, .timeout = timeout}));
  if (!status) {
    throw std::runtime_error(status.error().message);
  }
  return *status;
}

ExitStatus Server::slipway(std::vector<std::string> args) const {
  args.insert(args.begin(), {slipway_binary().string(), "--root", root.string()});
  auto status = run(args);
  if (!status.ok()) {
    // Shown with the next assertion: what a failing check of this status needs.
    UNSCOPED_INFO("slipway " << args[3] << " failed: " << status.output);
  }
  return status;
}

void Server::write(const std::string& app, const std::string& relative, const std::string& content,
                   int mode) const {
  fs::path file = work(app) / relative;
  write_file(file, content, mode);
  if (m_options.user) {
    for (fs::path at = file; at != work(app).parent_path(); at = at.parent_path()) {
      REQUIRE(::lchown(at.c_str(), m_options.user->uid, m_options.user->gid) == 0);
    }
  }
}

void Server::create(const std::string& app, const fs::path& fixture_dir) {
  auto created = slipway({"apps:create", app});
  INFO(created.output);
  REQUIRE(created.ok());
  if (fixture_dir.empty()) {
    fs::create_directories(work(app));
    write_file(work(app) / "Procfile",
               "web: python3 -m http.server \"$PORT\" --bind 127.0.0.1 --directory www\n");
    write_file(work(app) / "www/index.html", "hello from " + app + "\n");
  } else {
    fs::copy(fixture_dir, work(app), fs::copy_options::recursive);
  }
  if (m_options.user) {
    REQUIRE(chown_tree(work(app), *m_options.user));
  }
  git(app, {"init", "-q", "-b", "main"});
  commit(app, "first");
}

std::string Server::git(const std::string& app, std::vector<std::string> args) const {
  args.insert(args.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@example.com"});
  auto status = run(args, work(app));
  INFO(status.output);
  REQUIRE(status.ok());
  return status.output;
}

std::string Server::commit(const std::string& app, const std::string& message) const {
  git(app, {"add", "-A"});
  git(app, {"commit", "-qm", message, "--allow-empty"});
  return git(app, {"rev-parse", "HEAD"}).substr(0, 40);
}

Command Server::push_command(const std::string& app) const {
  return as_user({.argv = {"git", "push", "-q", (root / "repos" / (app + ".git")).string(), "main"},
                  .cwd = work(app),
                  .timeout = 5min});
}

ExitStatus Server::push(const std::string& app) const {
  auto status = slipway::run(push_command(app));
  REQUIRE(status);
  if (!status->ok()) {
    UNSCOPED_INFO("git push of " << app << " failed: " << status->output << "\ndaemon log:\n"
                                 << daemon.log());
  }
  return *status;
}

fs::path Server::buildpack(const std::string& name, const std::string& compile,
                           const std::string& release_yaml) const {
  fs::path dir_of = dir / "buildpacks" / name;
  write_file(dir_of / "bin/detect", "#!/bin/sh\necho " + name + "\n", 0755);
  write_file(dir_of / "bin/compile", "#!/bin/sh\n" + compile, 0755);
  if (!release_yaml.empty()) {
    write_file(dir_of / "bin/release", "#!/bin/sh\ncat <<'YAML'\n---\n" + release_yaml + "YAML\n",
               0755);
  }
  if (m_options.user) {
    REQUIRE(chown_tree(dir / "buildpacks", *m_options.user));
  }
  return dir_of;
}

void Server::use_buildpack(const std::string& app, const fs::path& buildpack) const {
  write(app, ".buildpacks", buildpack.string() + "\n");
  commit(app, "buildpack " + buildpack.filename().string());
}

HttpResponse Server::get(const std::string& app, const std::string& path) const {
  return http_request(http_port, app + ".localhost", path);
}

bool Server::serves(const std::string& app, const std::string& text,
                    std::chrono::milliseconds wait) const {
  return host_serves(app + ".localhost", text, wait);
}

bool Server::host_serves(const std::string& host, const std::string& text,
                         std::chrono::milliseconds wait) const {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    auto response = http_request(http_port, host);
    if (response.status == 200 && contains(response.body, text)) {
      return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

json Server::releases(const std::string& app) const {
  auto status = slipway({"releases", "-a", app, "--json", "-n", "0"});
  INFO(status.output);
  REQUIRE(status.ok());
  // Warnings (a release dir whose record is not written yet) come first, on stderr.
  auto start = status.output.find('[');
  REQUIRE(start != std::string::npos);
  return json::parse(status.output.substr(start));
}

std::string Server::branch(const std::string& app) const {
  auto status = run({"git", "--git-dir", (root / "repos" / (app + ".git")).string(), "rev-parse",
                     "-q", "--verify", "refs/heads/main"});
  return status.ok() ? status.output.substr(0, 40) : "";
}

std::string Server::live_commit(const std::string& app) const {
  std::error_code ec;
  auto target = fs::read_symlink(app_dir(app) / "current", ec);
  if (ec) {
    return "";
  }
  std::string record = read_text(app_dir(app) / target / "release.toml");
  auto at = record.find("commit = ");
  return at == std::string::npos ? "" : record.substr(at + 10, 40);
}

bool Server::settled(const std::string& app, std::chrono::milliseconds wait) const {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    bool in_flight = fs::exists(app_dir(app) / "push.inflight", ec);
    bool pending = false;
    for (const auto& release : releases(app)) {
      pending = pending || release["status"] == "pending";
    }
    if (!in_flight && !pending) {
      return true;
    }
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

fs::path compile_c(const fs::path& dir, const std::string& name, const std::string& source,
                   const std::vector<std::string>& flags) {
  fs::path c_file = dir / (name + ".c");
  write_file(c_file, source);
  std::vector<std::string> argv = {"gcc", "-O1", "-o", (dir / name).string(), c_file.string()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto compiled = run_program(argv);
  INFO(compiled.output);
  REQUIRE(compiled.ok());
  return dir / name;
}

} // namespace slipway::test
