#include <catch2/catch.hpp>

#include "compiler/git.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;

TEST_CASE("the locks a killed receive-pack left on a branch are removed, nothing else", "[git]") {
  TempDir dir;
  fs::path repo = dir / "demo.git";
  REQUIRE(run_program({"git", "init", "-q", "--bare", "-b", "main", repo.string()}).ok());
  write_file(repo / "HEAD.lock", "");
  write_file(repo / "refs/heads/main.lock", "");
  write_file(repo / "refs/heads/other.lock", "");
  write_file(repo / "packed-refs.lock", "");

  auto removed = git::remove_stale_locks(repo, "refs/heads/main");
  REQUIRE(removed);
  CHECK(*removed == std::vector<std::string>{"refs/heads/main.lock", "HEAD.lock"});
  CHECK_FALSE(fs::exists(repo / "HEAD.lock"));
  CHECK_FALSE(fs::exists(repo / "refs/heads/main.lock"));
  CHECK(fs::exists(repo / "refs/heads/other.lock"));
  CHECK(fs::exists(repo / "packed-refs.lock"));

  // HEAD is not locked for a branch it does not point at.
  write_file(repo / "HEAD.lock", "");
  removed = git::remove_stale_locks(repo, "refs/heads/other");
  REQUIRE(removed);
  CHECK(*removed == std::vector<std::string>{"refs/heads/other.lock"});
  CHECK(fs::exists(repo / "HEAD.lock"));
  CHECK(*git::remove_stale_locks(repo, "refs/heads/main") == std::vector<std::string>{"HEAD.lock"});
  // None left: nothing to remove, and no error.
  CHECK(git::remove_stale_locks(repo, "refs/heads/main")->empty());
}

TEST_CASE("stale locks are only looked for under a valid branch name", "[git]") {
  TempDir dir;
  fs::path repo = dir / "demo.git";
  REQUIRE(run_program({"git", "init", "-q", "--bare", "-b", "main", repo.string()}).ok());
  write_file(dir / "outside.lock", "");
  for (std::string ref : {"refs/heads/../../outside", "refs/tags/v1", "HEAD", "refs/heads/a..b",
                          "refs/heads/", "/etc/passwd", "refs/heads/x\n"}) {
    INFO(ref);
    auto removed = git::remove_stale_locks(repo, ref);
    REQUIRE_FALSE(removed);
    CHECK(removed.error().message.find("is not a branch") != std::string::npos);
  }
  CHECK(fs::exists(dir / "outside.lock"));
}
