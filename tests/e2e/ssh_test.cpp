// The ssh git server: a real sshd on loopback whose authorized_keys slipway writes, and the
// stock ssh and git clients with per-test keys.
#include <csignal>
#include <pwd.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "hooks/ssh_command.hpp"
#include "runtime/apps.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string user_name() {
  const passwd* entry = getpwuid(getuid());
  REQUIRE(entry);
  return entry->pw_name;
}

struct SshServer {
  TempDir dir;
  fs::path root = dir / "root";
  fs::path keys = dir / "keys";
  int port = free_port();
  std::string user = user_name();
  SpawnedProcess sshd;

  // `extra_config`: more of slipway.toml.
  explicit SshServer(const std::string& extra_config = "") {
    REQUIRE(slipway({"init"}).ok());
    write_file(root / "slipway.toml",
               read_text(root / "slipway.toml") + "[ssh]\nauthorized_keys = \"" +
                   (dir / "authorized_keys").string() + "\"\n" + extra_config);
    // A line slipway does not own, which it must keep.
    write_file(dir / "authorized_keys", "# someone else's\n", 0600);
    fs::create_directories(keys);
    REQUIRE(run_program(
                {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", (dir / "host_key").string()})
                .ok());
    for (const char* name : {"admin", "alice", "bob", "stranger"}) {
      REQUIRE(run_program({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f",
                           (keys / name).string()})
                  .ok());
    }
    fs::create_directories("/run/sshd"); // sshd's privilege separation dir
    write_file(dir / "sshd_config",
               fmt::format("Port {}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\n"
                           "AuthorizedKeysFile {}\nStrictModes no\nUsePAM no\n"
                           "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                           "PermitRootLogin prohibit-password\nAllowUsers {}\n",
                           port, (dir / "host_key").string(), (dir / "sshd.pid").string(),
                           (dir / "authorized_keys").string(), user));
    auto started = spawn({.argv = {"/bin/sh", "-c", "exec /usr/sbin/sshd -D -e -f \"$0\" 2>>\"$1\"",
                                   (dir / "sshd_config").string(), (dir / "sshd.log").string()}},
                         {.capture_output = true});
    REQUIRE(started);
    sshd = *started;
    close(sshd.output_fd);
    for (int i = 0; i < 100 && http_request(port, "x").body.starts_with("connect:"); ++i) {
      std::this_thread::sleep_for(50ms);
    }
  }
  ~SshServer() {
    ::kill(sshd.pid, SIGTERM);
    wait_spawned(sshd);
  }

  ExitStatus slipway(std::vector<std::string> args, const std::string& stdin_data = "") const {
    std::vector<std::string> argv = {slipway_binary().string(), "--root", root.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    Command command{.argv = argv, .stdin_data = stdin_data, .timeout = 2min};
    auto status = run(command);
    REQUIRE(status);
    return *status;
  }
  void add_key(const std::string& name, bool admin) const {
    std::vector<std::string> args = {"keys:add", name};
    if (admin) {
      args.push_back("--admin");
    }
    auto added = slipway(args, read_text(keys / (name + ".pub")));
    INFO(added.output);
    REQUIRE(added.ok());
  }
  std::string ssh_options(const std::string& key) const {
    return fmt::format("ssh -F /dev/null -i {} -o StrictHostKeyChecking=no -o "
                       "UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o BatchMode=yes "
                       "-o LogLevel=ERROR",
                       (keys / key).string());
  }
  // `ssh -p PORT USER@127.0.0.1 COMMAND` with `key`.
  ExitStatus ssh(const std::string& key, const std::string& command) const {
    return run_program({"sh", "-c", ssh_options(key) + " -p \"$0\" \"$1\" \"$2\"",
                        std::to_string(port), user + "@127.0.0.1", command});
  }
  // git with `key` for ssh.
  ExitStatus git(const std::string& key, std::vector<std::string> args,
                 const fs::path& cwd = {}) const {
    args.insert(args.begin(),
                {"env", "GIT_SSH_COMMAND=" + ssh_options(key) + " -p " + std::to_string(port),
                 "git", "-c", "user.name=t", "-c", "user.email=t@example.com"});
    return run_program(args, cwd);
  }
  std::string url(const std::string& app) const {
    return fmt::format("ssh://{}@127.0.0.1:{}/{}", user, port, app);
  }
  // A work tree with a Procfile app, committed.
  fs::path work_tree(const std::string& name, const std::string& text) const {
    fs::path work = dir / name;
    write_file(work / "Procfile", "web: echo " + text + "\n");
    REQUIRE(git("admin", {"init", "-q", "-b", "main", work.string()}).ok());
    REQUIRE(git("admin", {"add", "-A"}, work).ok());
    REQUIRE(git("admin", {"commit", "-qm", text}, work).ok());
    return work;
  }
};

} // namespace

TEST_CASE("an admin key pushes a new app over ssh and clones it back", "[ssh]") {
  SshServer server;
  server.add_key("admin", true);
  CHECK(contains(read_text(server.dir / "authorized_keys"), "# someone else's\n"));
  CHECK(contains(read_text(server.dir / "authorized_keys"), "ssh-command admin\",restrict,pty"));
  fs::path work = server.work_tree("work", "one");

  auto pushed = server.git("admin", {"push", server.url("demo"), "main"}, work);
  INFO(pushed.output);
  REQUIRE(pushed.ok());
  CHECK(contains(pushed.output, "Created app demo"));
  CHECK(contains(pushed.output, "deployed (v1)"));

  // The scp-like form, with the port from GIT_SSH_COMMAND.
  write_file(work / "Procfile", "web: echo two\n");
  REQUIRE(server.git("admin", {"commit", "-qam", "two"}, work).ok());
  auto again = server.git("admin", {"push", server.user + "@127.0.0.1:demo.git", "main"}, work);
  INFO(again.output);
  REQUIRE(again.ok());

  // A new app through the scp-like form too.
  auto second = server.git("admin", {"push", server.user + "@127.0.0.1:second", "main"}, work);
  INFO(second.output);
  CHECK(second.ok());
  CHECK(contains(second.output, "Created app second"));
  CHECK(list_apps(Layout(server.root)) == std::vector<std::string>{"demo", "second"});

  auto releases = server.ssh("admin", "releases -a demo --json");
  INFO(releases.output);
  REQUIRE(releases.ok());
  json list = json::parse(releases.output);
  REQUIRE(list.size() == 2);
  CHECK(contains(list[0]["description"].get<std::string>(), " by admin"));
  CHECK(list[0]["user"] == "admin");

  auto cloned =
      server.git("admin", {"clone", "-q", server.url("demo"), (server.dir / "copy").string()});
  INFO(cloned.output);
  CHECK(cloned.ok());
  CHECK(read_text(server.dir / "copy" / "Procfile") == "web: echo two\n");
}

TEST_CASE("a collaborator may use its apps only, strangers and removed keys nothing", "[ssh]") {
  SshServer server;
  server.add_key("admin", true);
  server.add_key("alice", false);
  server.add_key("bob", false);
  fs::path work = server.work_tree("work", "one");
  REQUIRE(server.git("admin", {"push", server.url("demo"), "main"}, work).ok());
  REQUIRE(server.git("admin", {"push", server.url("other"), "main"}, work).ok());
  REQUIRE(server.slipway({"access:add", "-a", "demo", "alice"}).ok());
  CHECK(contains(server.slipway({"access", "-a", "demo"}).output, "alice"));

  // alice: pushes, rolls back and sets config on demo.
  write_file(work / "Procfile", "web: echo two\n");
  REQUIRE(server.git("alice", {"commit", "-qam", "two"}, work).ok());
  auto pushed = server.git("alice", {"push", server.url("demo"), "main"}, work);
  INFO(pushed.output);
  CHECK(pushed.ok());
  auto config = server.ssh("alice", "config:set -a demo 'GREETING=hi there'");
  INFO(config.output);
  CHECK(config.ok());
  auto rolled = server.ssh("alice", "rollback -a demo v1");
  INFO(rolled.output);
  CHECK(rolled.ok());
  json releases = json::parse(server.slipway({"releases", "-a", "demo", "--json"}).output);
  CHECK(releases[0]["description"] == "Rollback to v1");
  CHECK(releases[0]["user"] == "alice");
  CHECK(
      server.git("alice", {"clone", "-q", server.url("demo"), (server.dir / "c1").string()}).ok());

  // ... but nothing else.
  auto other = server.git("alice", {"push", server.url("other"), "main"}, work);
  CHECK_FALSE(other.ok());
  CHECK(contains(other.output, "key 'alice' has no access to app 'other'"));
  auto create = server.git("alice", {"push", server.url("newapp"), "main"}, work);
  CHECK_FALSE(create.ok());
  CHECK(contains(create.output, "only an admin key may create apps"));
  CHECK(contains(server.ssh("alice", "releases -a other").output, "no access to app 'other'"));
  CHECK(
      contains(server.ssh("alice", "apps:create evil").output, "'apps:create' needs an admin key"));
  CHECK(contains(server.ssh("alice", "keys:remove admin").output, "needs an admin key"));
  CHECK(contains(server.ssh("bob", "config -a demo").output, "key 'bob' has no access"));
  CHECK(contains(server.ssh("alice", "").output, "you are 'alice'"));
  // Its apps' events, as the server records them; every app's are an admin's.
  auto events = server.ssh("alice", "events -a demo");
  INFO(events.output);
  CHECK(contains(events.output, "config.changed (alice): Config changed by alice: set GREETING"));
  // Without -a, a collaborator's events are those of its apps.
  auto own = server.ssh("alice", "events -n 0");
  CHECK(contains(own.output, "demo config.changed (alice)"));
  CHECK_FALSE(contains(own.output, " other "));
  CHECK(contains(server.ssh("alice", "events -a other").output, "no access to app 'other'"));
  CHECK(contains(server.ssh("admin", "events").output, "app.created"));
  CHECK_FALSE(server.ssh("stranger", "releases -a demo").ok());
  CHECK_FALSE(
      server.git("stranger", {"clone", "-q", server.url("demo"), (server.dir / "c2").string()})
          .ok());
  CHECK(list_apps(Layout(server.root)) == std::vector<std::string>{"demo", "other"});

  // A removed key stops working at once.
  REQUIRE(server.slipway({"keys:remove", "alice"}).ok());
  CHECK_FALSE(server.ssh("alice", "releases -a demo").ok());
  CHECK_FALSE(contains(server.slipway({"access", "-a", "demo"}).output, "alice"));

  std::string audit = read_text(server.root / "logs" / "ssh.log");
  CHECK(contains(audit, "key=alice from=127.0.0.1 accepted command=\"rollback -a demo v1\""));
  CHECK(contains(audit, "key=alice from=127.0.0.1 refused command=\"apps:create evil\""));
}

TEST_CASE("hostile commands over ssh are refused and change nothing", "[ssh]") {
  SshServer server;
  server.add_key("admin", true);
  fs::path marker = server.dir / "pwned";
  for (const std::string& command : std::vector<std::string>{
           "git-receive-pack 'x; touch " + marker.string() + "'",
           std::string("git-receive-pack '../etc'"), "releases -a demo; touch " + marker.string(),
           "git-receive-pack '$(touch " + marker.string() + ")'",
           std::string("git-upload-pack '--upload-pack=touch /tmp/x'"), std::string("git-shell"),
           std::string("daemon"), std::string("hook pre-receive"), std::string("ssh-command admin"),
           std::string("releases -a demo --root /tmp"),
           std::string("init --domain evil.example.com")}) {
    INFO(command);
    auto status = server.ssh("admin", command);
    INFO(status.output);
    CHECK_FALSE(status.ok());
    CHECK(contains(status.output, " !     "));
  }
  CHECK_FALSE(fs::exists(marker));
  CHECK(list_apps(Layout(server.root)).empty());
  CHECK(contains(read_text(server.root / "logs" / "ssh.log"), "refused"));

  // A typo gets the nearest command available over ssh; a local-only one is not suggested.
  auto typo = server.ssh("admin", "releases:rolback -a demo");
  CHECK(contains(typo.output, "'releases:rolback' is not a command available over ssh; did "
                              "you mean 'releases:rollback'?"));
  CHECK_FALSE(contains(server.ssh("admin", "deamon").output, "did you mean 'daemon'"));
  CHECK(contains(server.ssh("admin", "help").output, "config:set -a APP"));
}

namespace {

// The " !     ..." line a refusal ends with.
std::string refusal(const std::string& output) {
  auto at = output.rfind(" !     ");
  return at == std::string::npos ? "" : output.substr(at, output.find('\n', at) - at);
}

} // namespace

TEST_CASE("the ssh command and the CLI reach the same operation and give the same refusal",
          "[ssh]") {
  SshServer server;
  server.add_key("admin", true);
  server.add_key("alice", false);
  fs::path work = server.work_tree("work", "one");
  REQUIRE(server.git("admin", {"push", server.url("demo"), "main"}, work).ok());
  REQUIRE(server.git("admin", {"push", server.url("other"), "main"}, work).ok());
  REQUIRE(server.slipway({"access:add", "-a", "demo", "alice"}).ok());
  std::string before = server.slipway({"releases", "-a", "other", "--json"}).output;

  struct Ask {
    std::string key;
    std::string command;
    std::string refusal;
  };
  for (const Ask& ask : std::vector<Ask>{
           {"alice", "config:set -a other X=1", "key 'alice' has no access to app 'other'"},
           {"alice", "maintenance:on -a other", "key 'alice' has no access to app 'other'"},
           {"alice", "releases -a nope", "key 'alice' has no access to app 'nope'"},
           {"alice", "apps:destroy other --confirm other",
            "'apps:destroy' needs an admin key; key 'alice' is a collaborator"},
           {"alice", "access:add -a demo alice", "'access:add' needs an admin key"},
           {"alice", "ps:scale -a demo web=101", "'web=101' is not TYPE=COUNT"},
           {"admin", "domains:add -a demo not_a_host", "not_a_host"},
           {"admin", "releases -a nope", "app 'nope' does not exist"},
           {"alice", "pipelines:create shop", "'pipelines:create' needs an admin key"},
           {"alice", "pipelines:promote -a other", "key 'alice' has no access to app 'other'"},
           {"alice", "apps:set -a demo promotion_only=true", "'apps:set' needs an admin key"},
           {"admin", "pipelines:update -a demo --stage qa", "unknown stage 'qa'"},
           {"admin", "pipelines:diff -a demo", "app 'demo' is not in a pipeline"},
       }) {
    INFO(ask.key << ": " << ask.command);
    auto over_ssh = server.ssh(ask.key, ask.command);
    auto words = split_ssh_command(ask.command);
    REQUIRE(words);
    std::vector<std::string> args = {"--root", server.root.string()};
    args.insert(args.end(), words->begin(), words->end());
    auto local = run_slipway(args, {{"SLIPWAY_USER", ask.key}});
    INFO(over_ssh.output);
    INFO(local.output);
    CHECK_FALSE(over_ssh.ok());
    CHECK(over_ssh.code == local.code);
    CHECK(contains(refusal(over_ssh.output), ask.refusal));
    CHECK(refusal(over_ssh.output) == refusal(local.output));
  }
  CHECK(server.slipway({"releases", "-a", "other", "--json"}).output == before);
  CHECK(list_apps(Layout(server.root)) == std::vector<std::string>{"demo", "other"});
  CHECK(server.slipway({"maintenance", "-a", "other"}).output == "off\n");
  // What it may do on its own app, over ssh too.
  auto on = server.ssh("alice", "maintenance:on -a demo");
  INFO(on.output);
  CHECK(on.ok());
  CHECK(server.ssh("alice", "maintenance -a demo").output == "on\n");
}

TEST_CASE("a key reaches the Platform API through an ssh tunnel, and nothing else", "[ssh][api]") {
  int api_port = free_port();
  SshServer server(fmt::format("[api]\nlisten = \"127.0.0.1:{}\"\n", api_port));
  server.add_key("alice", false);
  auto made = server.ssh("alice", "authorizations:create -d tunnel -S");
  INFO(made.output);
  REQUIRE(made.ok());
  std::string token = made.output.substr(0, made.output.find('\n'));
  REQUIRE(token.starts_with("slipway_"));
  DaemonProcess daemon(server.root);
  daemon.start();

  // `ssh -N -L LOCAL:127.0.0.1:API git@server`, as the README says; then the API is local.
  auto tunnel_to = [&](int target, int local) {
    auto started =
        spawn({.argv = {"sh", "-c",
                        server.ssh_options("alice") +
                            " -N -o ExitOnForwardFailure=yes -p \"$0\" -L \"$1\" \"$2\"",
                        std::to_string(server.port), fmt::format("{}:127.0.0.1:{}", local, target),
                        server.user + "@127.0.0.1"}},
              {.capture_output = true});
    REQUIRE(started);
    close(started->output_fd);
    return *started;
  };
  int local = free_port();
  auto tunnel = tunnel_to(api_port, local);
  bool answered = false;
  for (int i = 0; i < 100 && !answered; ++i) {
    auto account = run_program({"curl", "-s", "-f", "-H", "Authorization: Bearer " + token,
                                fmt::format("http://127.0.0.1:{}/account", local)});
    answered = account.ok() && contains(account.output, "alice@localhost");
    std::this_thread::sleep_for(50ms);
  }
  CHECK(answered);
  ::kill(tunnel.pid, SIGTERM);
  wait_spawned(tunnel);

  // Any other port of the server (here sshd's own) is refused by the key's permitopen.
  int other = free_port();
  auto refused = tunnel_to(server.port, other);
  std::this_thread::sleep_for(1s);
  CHECK_FALSE(run_program({"curl", "-s", "--http0.9", "--max-time", "3",
                           fmt::format("http://127.0.0.1:{}/", other)})
                  .output.starts_with("SSH-"));
  ::kill(refused.pid, SIGTERM);
  wait_spawned(refused);
  daemon.stop();
}
