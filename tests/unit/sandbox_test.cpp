#include <linux/filter.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/sandbox.hpp"
#include "common/seccomp.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string joined(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    out += arg + " ";
  }
  return out;
}

} // namespace

TEST_CASE("the launcher gets a fixed environment and the app's reaches the sandbox by descriptor",
          "[sandbox]") {
  TempDir dir;
  Sandbox box({.identity = {200123, 200123}}, dir.path());
  auto command = box.command({"/bin/true"}, {{"LD_PRELOAD", "/evil.so"}, {"SECRET", "s3cr3t"}});
  REQUIRE(command);
  CHECK(command->clear_env);
  CHECK(command->env ==
        std::map<std::string, std::string>{{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}});
  std::string argv = joined(command->argv);
  CHECK_FALSE(contains(argv, "s3cr3t"));
  CHECK_FALSE(contains(argv, "LD_PRELOAD"));
  for (const char* option :
       {"--unshare-user", "--unshare-pid", "--disable-userns", "--cap-drop ALL", "--new-session",
        "--die-with-parent", "--seccomp ", "--args "}) {
    CHECK(contains(argv, option));
  }
  CHECK(command->child.inherit.size() == 4); // seccomp, passwd, group, environment
  if (geteuid() == 0) {
    REQUIRE(command->child.user);
    CHECK(command->child.user->uid == 200123);
  } else {
    CHECK(contains(argv, "--uid 200123 --gid 200123"));
  }
}

TEST_CASE("a sandboxed command sees exactly the environment it was given", "[sandbox]") {
  TempDir dir;
  Sandbox box({.identity = {200124, 200124}, .limits = {.processes = 100}}, dir.path());
  auto command = box.command({"/usr/bin/env"}, {{"PATH", "/usr/bin:/bin"}, {"GREETING", "a b\nc"}});
  REQUIRE(command);
  auto status = run(*command);
  REQUIRE(status);
  INFO(status->output);
  CHECK(status->ok());
  CHECK(contains(status->output, "GREETING=a b\nc\n"));
  CHECK(contains(status->output, "PATH=/usr/bin:/bin\n"));
  CHECK_FALSE(contains(status->output, "HOME="));
}

TEST_CASE("a bind source the app's uid cannot reach is an error that says how to fix it",
          "[sandbox]") {
  if (geteuid() != 0) {
    WARN("only root switches to the app's uid: skipped");
    return;
  }
  TempDir dir;
  fs::create_directories(dir / "private/app");
  fs::permissions(dir / "private", fs::perms::owner_all);
  Sandbox box({.identity = {200125, 200125}}, dir / "private/app");
  auto command = box.command({"/bin/true"}, {});
  REQUIRE_FALSE(command);
  CHECK(contains(command.error().message, "is not searchable by uid 200125"));
  CHECK(contains(command.error().message, "chmod o+x"));
}

TEST_CASE("the seccomp filter is a BPF program", "[sandbox]") {
  auto program = seccomp_program();
  REQUIRE(program);
  CHECK(!program->empty());
  CHECK(program->size() % sizeof(sock_filter) == 0);
}

TEST_CASE("the environment's size counts names, values and their separators", "[sandbox]") {
  CHECK(environment_size({}) == 0);
  CHECK(environment_size({{"A", "bc"}}) == 1 + 2 + 2 + sizeof(char*));
}

TEST_CASE("a sandbox whose / is a directory of root's has /app and /cache in one mount",
          "[sandbox]") {
  if (geteuid() != 0) {
    WARN("only root switches to the app's uid: skipped");
    return;
  }
  TempDir dir;
  fs::permissions(dir.path(), fs::perms(0711));
  fs::path root = dir / "root";
  for (const char* sub : {"app", "cache"}) {
    fs::create_directories(root / sub);
    REQUIRE(::chown((root / sub).c_str(), 200126, 200126) == 0);
  }
  test::write_file(root / "cache/kept", "cached\n");
  REQUIRE(::chown((root / "cache/kept").c_str(), 200126, 200126) == 0);
  Sandbox box({.identity = {200126, 200126}}, root / "app");
  box.set_root(root);
  box.bind(root / "cache", "/cache", Sandbox::Access::read_write);
  mode_t old_mask = ::umask(077); // what the mount points are made with
  auto command = box.command(
      {"/bin/bash", "-c",
       "ln /cache/kept /app/kept && stat -c 'links %h' /app/kept && "
       "{ touch /made 2>/dev/null && echo 'wrote /'; mv /cache /elsewhere 2>/dev/null && "
       "echo 'moved /cache'; ls /var/tmp >/dev/null && echo 'reached /var/tmp'; }"},
      {});
  ::umask(old_mask);
  REQUIRE(command);
  std::string argv = joined(command->argv);
  CHECK(contains(argv, "--bind " + root.string() + " / "));
  CHECK_FALSE(contains(argv, (root / "app").string() + " /app")); // not bound on its own
  CHECK_FALSE(contains(argv, (root / "cache").string() + " /cache"));
  CHECK_FALSE(contains(argv, "--symlink")); // the root has the host's /bin and the like
  auto status = run(*command);
  REQUIRE(status);
  INFO(status->output);
  CHECK(status->ok());
  CHECK(contains(status->output, "links 2\n"));
  CHECK_FALSE(contains(status->output, "wrote /"));
  CHECK_FALSE(contains(status->output, "moved /cache"));
  CHECK(contains(status->output, "reached /var/tmp"));
  CHECK((fs::status(root / "var").permissions() & fs::perms::all) == fs::perms(0755));
}
