// The sandbox against a hostile app, buildpack or collaborator: each probe is an exploit
// that worked once (issue 10), built by the test and run against a real server. The three
// critical ones run twice: with slipway as root, and as an unprivileged user.
#include <fstream>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/tree.hpp"
#include "tests/support/server.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The config keys a hostile app sets to get code run by whatever starts its processes.
const std::vector<std::string> k_hostile_names = {
    "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "BASH_ENV", "ENV", "PROMPT_COMMAND"};

// Every argv on the host, for secrets that must never be there.
std::string all_command_lines() {
  std::string all;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    all += std::string(std::istreambuf_iterator<char>(in), {}) + "\n";
  }
  return all;
}

// The live release's unpacked files of `app`, as a host path.
fs::path live_files(const Server& server, const std::string& app) {
  return fs::canonical(server.app_dir(app) / "current") / "app";
}

void config_var_runs_no_code_on_the_host(ServerOptions options) {
  Server server(std::move(options));
  server.create("victim");
  REQUIRE(server.push("victim").ok());
  // Its own per test process: a test beside this one sets the same variable on its server.
  const std::string secret = fmt::format("victim-secret-{}", getpid());
  REQUIRE(server.slipway({"config:set", "-a", "victim", "SECRET=" + secret}).ok());

  // A shared object in evil's own commit whose constructor copies the victim's release
  // record to a marker file, from wherever it gets loaded.
  fs::path marker = server.dir / "pwned";
  server.create("evil");
  fs::path so_dir = server.dir / "so";
  fs::create_directories(so_dir);
  compile_c(so_dir, "evil.so",
            R"c(#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void pwn(void) {
  FILE* out = fopen(MARKER, "a");
  if (!out) return;
  fprintf(out, "loaded in pid %d uid %d\n", getpid(), getuid());
  FILE* in = fopen(VICTIM, "r");
  char buffer[4096];
  size_t n = in ? fread(buffer, 1, sizeof buffer, in) : 0;
  fwrite(buffer, 1, n, out);
  fclose(out);
}
)c",
            {"-shared", "-fPIC", fmt::format("-DMARKER=\"{}\"", marker.string()),
             fmt::format("-DVICTIM=\"{}\"",
                         (server.app_dir("victim") / "releases/v2/release.toml").string())});
  server.write("evil", "evil.so", read_text(so_dir / "evil.so"), 0755);
  server.write("evil", "hook.sh", fmt::format("echo sourced >> '{}'\n", marker.string()));
  server.commit("evil", "a shared object");
  REQUIRE(server.push("evil").ok());
  fs::path so = live_files(server, "evil") / "evil.so";
  fs::path script = live_files(server, "evil") / "hook.sh";
  REQUIRE(fs::exists(so));

  std::vector<std::string> set = {"config:set", "-a", "evil"};
  for (const auto& name : k_hostile_names) {
    std::string value = name.starts_with("LD_") ? so.string() : script.string();
    set.push_back(fmt::format("{}={}{}", name, name == "PROMPT_COMMAND" ? ". " : "", value));
  }
  auto changed = server.slipway(set); // a new release: its processes start
  INFO(changed.output);
  CHECK(changed.ok());
  auto ran = server.slipway({"run", "-a", "evil", "--", "printenv LD_PRELOAD"});
  CHECK(contains(ran.output, so.string())); // the app's own variable, inside its sandbox
  server.write("evil", "again.txt", "x");
  server.commit("evil", "a build with the variables set");
  CHECK(server.push("evil").ok());
  CHECK(server.serves("evil", "hello from evil"));
  CHECK(server.slipway({"ps:restart", "-a", "evil"}).ok());

  INFO((fs::exists(marker) ? read_text(marker) : std::string()));
  CHECK_FALSE(fs::exists(marker));
  CHECK_FALSE(contains(all_command_lines(), secret));
}

void buildpack_writes_nothing_outside_its_build(ServerOptions options) {
  options.config += "[build]\nlocal_buildpacks = [\"@DIR@/buildpacks\"]\n";
  Server server(std::move(options));
  server.create("victim");
  REQUIRE(server.push("victim").ok());
  REQUIRE(server.slipway({"config:set", "-a", "victim", "SECRET=victim-secret-4b7d"}).ok());
  fs::path victim_profile = live_files(server, "victim") / ".profile.d";

  // Replaces /app/.profile.d with a symlink to the victim's release, and asks for a
  // config var that would run a script of its choosing in the victim's processes.
  auto buildpack = server.buildpack(
      "evil",
      fmt::format("rm -rf /app/.profile.d\nln -s '{}' /app/.profile.d\n"
                  "echo \"compiling as uid $(id -u), $(grep CapEff /proc/self/status)\"\n",
                  victim_profile.string()),
      "config_vars:\n  BASH_ENV: /app/pwn.sh\n");
  server.create("evil");
  server.use_buildpack("evil", buildpack);
  auto pushed = server.push("evil");
  INFO(pushed.output);
  CHECK_FALSE(pushed.ok());
  CHECK(contains(pushed.output, "'.profile.d' is a symlink out of the app"));
  CHECK(contains(pushed.output, "CapEff:\t0000000000000000"));
  CHECK_FALSE(contains(pushed.output, "compiling as uid 0,"));

  CHECK_FALSE(fs::exists(victim_profile / "000-buildpack-config-vars.sh"));
  CHECK(server.serves("victim", "hello from victim"));
  auto env = server.slipway({"run", "-a", "victim", "--", "printenv BASH_ENV || echo unset"});
  CHECK(contains(env.output, "unset"));

  // The same symlink pointing inside the app is followed, as the buildpack meant.
  server.buildpack("evil",
                   "mkdir -p /app/lib/profile\nrm -rf /app/.profile.d\n"
                   "ln -s lib/profile /app/.profile.d\n",
                   "config_vars:\n  FROM_BUILDPACK: \"yes\"\ndefault_process_types:\n"
                   "  web: python3 -m http.server $PORT --bind 127.0.0.1\n");
  server.commit("evil", "a buildpack that keeps to its app");
  auto kept = server.push("evil");
  INFO(kept.output);
  CHECK(kept.ok());
  CHECK(fs::exists(live_files(server, "evil") / "lib/profile/000-buildpack-config-vars.sh"));
}

constexpr const char* k_probe_source = R"c(#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char* what, long rc) {
  printf("%s: %s\n", what, rc < 0 ? strerror(errno) : "allowed");
}

int main(void) {
  printf("uid %d gid %d\n", (int)getuid(), (int)getgid());
  FILE* status = fopen("/proc/self/status", "r");
  char line[256];
  while (status && fgets(line, sizeof line, status)) {
    if (!strncmp(line, "CapEff", 6) || !strncmp(line, "CapPrm", 6) ||
        !strncmp(line, "NoNewPrivs", 10) || !strncmp(line, "Seccomp:", 8)) {
      fputs(line, stdout);
    }
  }
  /* "shocker": a file handle for the root directory of the filesystem underneath. */
  struct { unsigned int bytes; int type; unsigned char handle[8]; } h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
  int root = open("/", O_RDONLY | O_DIRECTORY);
  report("open_by_handle_at", syscall(SYS_open_by_handle_at, root, &h, O_RDONLY));
  report("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
  report("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
  report("ptrace", ptrace(PTRACE_TRACEME, 0, 0, 0));
  report("bpf", syscall(SYS_bpf, 0, NULL, 0));
  report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
  report("open /etc/shadow", open("/etc/shadow", O_RDONLY));
  return 0;
}
)c";

void no_capabilities_no_root_a_seccomp_filter(ServerOptions options) {
  Server server(std::move(options));
  server.create("evil");
  fs::path bin = server.dir / "bin";
  fs::create_directories(bin);
  compile_c(bin, "probe", k_probe_source, {"-static"});
  server.write("evil", "probe", read_text(bin / "probe"), 0755);
  server.commit("evil", "a static probe");
  REQUIRE(server.push("evil").ok());
  auto probed = server.slipway({"run", "-a", "evil", "--", "./probe"});
  INFO(probed.output);
  REQUIRE(probed.ok());
  CHECK_FALSE(contains(probed.output, "uid 0 "));
  CHECK(contains(probed.output, "CapEff:\t0000000000000000"));
  CHECK(contains(probed.output, "CapPrm:\t0000000000000000"));
  CHECK(contains(probed.output, "NoNewPrivs:\t1"));
  CHECK(contains(probed.output, "Seccomp:\t2"));
  for (const char* call :
       {"open_by_handle_at", "unshare(CLONE_NEWUSER)", "mount", "ptrace", "bpf", "keyctl"}) {
    CHECK(contains(probed.output, fmt::format("{}: Operation not permitted", call)));
  }
  CHECK(contains(probed.output, "open /etc/shadow: Permission denied"));

  // The same holds for the web process and for the build.
  auto uid = read_text(server.app_dir("evil") / "uid").substr(0, 6);
  CHECK(contains(probed.output, "uid " + uid + " gid " + uid));
  if (!server.user()) {
    // Each app its own host uid: the process list shows it.
    server.create("other");
    REQUIRE(server.push("other").ok());
    auto other_uid = read_text(server.app_dir("other") / "uid").substr(0, 6);
    CHECK(other_uid != uid);
    auto ps = run_program({"ps", "-o", "uid=", "-u", other_uid});
    CHECK(ps.ok());
  }
}

} // namespace

TEST_CASE("a config var cannot run code on the host (as root)", "[isolation]") {
  config_var_runs_no_code_on_the_host({});
}

TEST_CASE("a config var cannot run code on the host (as an unprivileged user)", "[isolation]") {
  config_var_runs_no_code_on_the_host({.user = k_test_user});
}

TEST_CASE("a buildpack cannot write outside its build through a symlink (as root)", "[isolation]") {
  buildpack_writes_nothing_outside_its_build({});
}

TEST_CASE("a buildpack cannot write outside its build through a symlink (as an unprivileged "
          "user)",
          "[isolation]") {
  buildpack_writes_nothing_outside_its_build({.user = k_test_user});
}

TEST_CASE("apps run with no capabilities, not as root, under seccomp (as root)", "[isolation]") {
  no_capabilities_no_root_a_seccomp_filter({});
}

TEST_CASE("apps run with no capabilities, not as root, under seccomp (as an unprivileged user)",
          "[isolation]") {
  no_capabilities_no_root_a_seccomp_filter({.user = k_test_user});
}

TEST_CASE("a pushed tree's symlinks out of the app are refused, not followed", "[isolation]") {
  Server server;
  server.create("demo");
  REQUIRE(server.push("demo").ok());
  for (const char* name : {"Procfile", "app.json", ".buildpacks", ".slugignore"}) {
    SECTION(name) {
      fs::remove(server.work("demo") / name);
      fs::create_symlink(std::string(name) == ".slugignore" ? "/dev/zero" : "/etc/shadow",
                         server.work("demo") / name);
      server.commit("demo", std::string("a symlinked ") + name);
      auto pushed = server.push("demo");
      INFO(pushed.output);
      CHECK_FALSE(pushed.ok());
      CHECK(contains(pushed.output, fmt::format("'{}' is a symlink out of the app", name)));
      CHECK_FALSE(contains(pushed.output, "root:"));
      CHECK(server.releases("demo").size() == 1);
    }
  }
  SECTION("a relative symlink climbing out") {
    fs::remove(server.work("demo") / "Procfile");
    fs::create_symlink("../../../../../../../../etc/shadow", server.work("demo") / "Procfile");
    server.commit("demo", "a climbing Procfile");
    auto pushed = server.push("demo");
    CHECK(contains(pushed.output, "'Procfile' is a symlink out of the app"));
  }
  SECTION("a symlink inside the app is followed") {
    fs::create_directories(server.work("demo") / "config");
    fs::rename(server.work("demo") / "Procfile", server.work("demo") / "config/Procfile");
    fs::create_symlink("config/Procfile", server.work("demo") / "Procfile");
    server.write("demo", "www/index.html", "hello again\n");
    server.commit("demo", "a Procfile in config/");
    auto pushed = server.push("demo");
    INFO(pushed.output);
    CHECK(pushed.ok());
    CHECK(server.serves("demo", "hello again"));
  }
}

TEST_CASE("host names under the server's domain belong to the app of that name", "[isolation]") {
  Server server;
  server.create("evil");
  REQUIRE(server.push("evil").ok());
  auto hijack = server.slipway({"domains:add", "-a", "evil", "zeta.localhost"});
  CHECK_FALSE(hijack.ok());
  CHECK(contains(hijack.output, "'zeta.localhost' is under the server's domain 'localhost' and "
                                "belongs to the app named 'zeta'"));
  CHECK_FALSE(server.slipway({"domains:add", "-a", "evil", "localhost"}).ok());
  CHECK_FALSE(server.slipway({"domains:add", "-a", "evil", "a.b.localhost"}).ok());
  CHECK(server.slipway({"domains:add", "-a", "evil", "www.example.com"}).ok());

  // Even a claim that got into app.toml some other way never reaches nginx.
  std::string record = read_text(server.app_dir("evil") / "app.toml");
  auto at = record.find("'www.example.com'");
  REQUIRE(at != std::string::npos);
  record.insert(at, "'zeta.localhost', ");
  write_file(server.app_dir("evil") / "app.toml", record);
  server.create("zeta");
  REQUIRE(server.push("zeta").ok());
  CHECK(server.serves("zeta", "hello from zeta"));
  CHECK(server.slipway({"ps:scale", "-a", "evil", "web=1"}).ok()); // a router reload
  CHECK(server.serves("zeta", "hello from zeta"));
  CHECK(server.host_serves("www.example.com", "hello from evil"));
  CHECK_FALSE(contains(server.daemon.log(), "conflicting server name"));
}

TEST_CASE("bad values are refused with a message that names them, and nothing changes",
          "[isolation]") {
  Server server;
  server.create("demo");
  REQUIRE(server.push("demo").ok());
  SECTION("a config value that is not UTF-8") {
    auto set = server.slipway({"config:set", "-a", "demo", "BYTES=a\xff\xfe"});
    CHECK(set.code == 2);
    CHECK(
        contains(set.output, "the value of config var 'BYTES' is not UTF-8 text ('a\\xff\\xfe')"));
  }
  SECTION("config vars past 32KB") {
    auto set = server.slipway({"config:set", "-a", "demo", "BIG=" + std::string(40000, 'x')});
    CHECK(set.code == 1);
    CHECK(contains(set.output, "config vars would take 39.1KB; an app may have at most 32.0KB"));
  }
  SECTION("control characters in a Procfile command") {
    server.write("demo", "Procfile", "web: echo \x1b[31mred\n");
    server.commit("demo", "colours");
    auto pushed = server.push("demo");
    CHECK(contains(pushed.output, "the command of 'web' holds a control character (\\x1b)"));
    CHECK_FALSE(contains(pushed.output, "\x1b"));
  }
  CHECK(server.releases("demo").size() == 1);

  SECTION("settings in slipway.toml") {
    for (const auto& [setting, message] : std::vector<std::pair<std::string, std::string>>{
             {"[server]\ndomain = \"a;b}\"\n", "invalid host name 'a;b}'"},
             {"[build]\ntimeout = \"0s\"\n", "'0s' is out of range 1s-168h"},
             {"[build]\ntimeout = \"9999999999h\"\n", "'9999999999h' is out of range"},
             {"[build]\ntimeout = \"99999999999999h\"\n", "is too long"},
             {"[runtime]\nhealth_timeout = \"2h\"\n", "'2h' is out of range 1s-1h"},
             {"[runtime]\nmemory = \"1KB\"\n", "'1KB' is below the least that works, 16.0MB"}}) {
      write_file(server.root / "slipway.toml", setting);
      auto listed = server.slipway({"config:set", "-a", "demo", "A=1"});
      CHECK(listed.code == 1);
      CHECK(contains(listed.output, message));
    }
  }
  SECTION("a root that is empty, missing or a file") {
    CHECK(run_slipway({"--root", "", "apps"}).code == 2);
    auto file = run_slipway({"--root", (server.root / "slipway.toml").string(), "apps"});
    CHECK(file.code == 1);
    CHECK(contains(file.output, "is not a slipway root"));
    auto missing = run_slipway({"--root", (server.dir / "nowhere").string(), "apps"});
    CHECK(missing.code == 1);
    CHECK(contains(missing.output, "does not exist"));
  }
}

TEST_CASE("a slug that is not the one a release recorded never runs", "[isolation]") {
  Server server;
  server.create("demo");
  REQUIRE(server.push("demo").ok());
  server.write("demo", "www/index.html", "second\n");
  server.commit("demo", "second");
  REQUIRE(server.push("demo").ok());
  auto releases = server.releases("demo");
  std::string first_slug = releases[1]["slug"].get<std::string>().substr(7);
  std::string second_slug = releases[0]["slug"].get<std::string>().substr(7);
  REQUIRE(remove_tree(server.app_dir("demo") / "releases/v1/app"));
  fs::copy_file(server.root / "slugs" / (second_slug + ".tar.zst"),
                server.root / "slugs" / (first_slug + ".tar.zst"),
                fs::copy_options::overwrite_existing);
  auto rolled = server.slipway({"rollback", "-a", "demo", "v1"});
  INFO(rolled.output);
  CHECK_FALSE(rolled.ok());
  CHECK(contains(rolled.output, "is damaged or was replaced"));
  CHECK(server.serves("demo", "second"));
}

TEST_CASE("a daemon that restarts answers 503 for a known app until it is up, not 404",
          "[isolation]") {
  Server server;
  server.create("slow");
  server.write("slow", "Procfile",
               "web: sleep 2 && exec python3 -m http.server \"$PORT\" --bind 127.0.0.1 "
               "--directory www\n");
  server.commit("slow", "slow to start");
  REQUIRE(server.push("slow").ok());
  server.daemon.stop();
  server.daemon.start();
  auto first = server.get("slow");
  CHECK(first.status == 503);
  CHECK(server.serves("slow", "hello from slow"));
}

TEST_CASE("a pushed app cannot name a buildpack on the server's disk", "[isolation]") {
  Server server;
  server.create("evil");
  for (const std::string& ref :
       {server.root.string() + "/repos/evil.git", "file://" + server.root.string() + "/repos",
        fixture("buildpacks/exporter").string()}) {
    INFO(ref);
    server.write("evil", ".buildpacks", ref + "\n");
    server.commit("evil", "names " + ref);
    auto pushed = server.push("evil");
    CHECK_FALSE(pushed.ok());
    CHECK(contains(pushed.output, "is a path on this server"));
  }
  CHECK(server.releases("evil").empty());
}
