#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/tree.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using test::read_text;
using test::TempDir;
using test::write_file;
namespace fs = std::filesystem;

TEST_CASE("read_beneath reads files inside the tree and refuses symlinks out of it", "[tree]") {
  TempDir dir;
  fs::path app = dir / "app";
  write_file(app / "Procfile", "web: x\n");
  write_file(app / "config/real", "inside\n");
  write_file(dir / "secret", "outside\n");
  fs::create_symlink("config/real", app / "inner");
  fs::create_symlink((dir / "secret").string(), app / "absolute");
  fs::create_symlink("../secret", app / "climbing");
  fs::create_symlink("/proc/self/environ", app / "magic");

  CHECK(read_beneath(app, "Procfile").value() == "web: x\n");
  CHECK(read_beneath(app, "inner").value() == "inside\n");
  CHECK_FALSE(read_beneath(app, "missing").value());
  for (const char* escape : {"absolute", "climbing", "magic", "../secret"}) {
    INFO(escape);
    auto read = read_beneath(app, escape);
    REQUIRE_FALSE(read);
    CHECK(contains(read.error().message, fmt::format("'{}' is a symlink out of the app", escape)));
  }
}

TEST_CASE("read_beneath refuses FIFOs without blocking, directories and huge files", "[tree]") {
  TempDir dir;
  REQUIRE(mkfifo((dir / "fifo").c_str(), 0644) == 0);
  fs::create_directories(dir / "directory");
  write_file(dir / "big", std::string(2048, 'x'));
  CHECK(read_beneath(dir.path(), "fifo").error().message == "'fifo' is not a regular file");
  CHECK(read_beneath(dir.path(), "directory").error().message ==
        "'directory' is not a regular file");
  CHECK(read_beneath(dir.path(), "big", 1024).error().message == "'big' is larger than 1.0KB");
}

TEST_CASE("write_beneath replaces a symlink instead of writing through it", "[tree]") {
  TempDir dir;
  fs::path app = dir / "app";
  fs::create_directories(app / ".profile.d");
  write_file(dir / "victim.sh", "original\n");
  fs::create_symlink(dir / "victim.sh", app / ".profile.d/000.sh");
  REQUIRE(write_beneath(app, ".profile.d/000.sh", "new\n"));
  CHECK(read_text(dir / "victim.sh") == "original\n");
  CHECK_FALSE(fs::is_symlink(app / ".profile.d/000.sh"));
  CHECK(read_text(app / ".profile.d/000.sh") == "new\n");
}

TEST_CASE("write_beneath refuses a directory that leads out of the tree", "[tree]") {
  TempDir dir;
  fs::path app = dir / "app";
  fs::create_directories(app);
  fs::create_directories(dir / "victim");
  fs::create_symlink(dir / "victim", app / ".profile.d");
  auto written = write_beneath(app, ".profile.d/000.sh", "x");
  REQUIRE_FALSE(written);
  CHECK(contains(written.error().message, "'.profile.d' is a symlink out of the app"));
  CHECK(fs::is_empty(dir / "victim"));

  // A directory symlink that stays inside is followed; missing directories are made.
  fs::remove(app / ".profile.d");
  fs::create_directories(app / "lib");
  fs::create_symlink("lib", app / ".profile.d");
  REQUIRE(write_beneath(app, ".profile.d/deep/000.sh", "y", 0600));
  CHECK(read_text(app / "lib/deep/000.sh") == "y");
  CHECK((fs::status(app / "lib/deep/000.sh").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("remove_tree removes what an app left, however deep or locked, and nothing else",
          "[tree]") {
  TempDir dir;
  fs::path doomed = dir / "doomed";
  fs::path deep = doomed;
  for (int level = 0; level < 300; ++level) {
    deep /= "d";
  }
  fs::create_directories(deep);
  write_file(deep / "file", "x");
  write_file(doomed / "locked/inner/file", "x");
  fs::permissions(doomed / "locked/inner", fs::perms::none);
  fs::permissions(doomed / "locked", fs::perms::owner_read | fs::perms::owner_exec);
  write_file(dir / "keep/file", "kept");
  fs::create_symlink(dir / "keep", doomed / "link");
  auto removed = remove_tree(doomed);
  INFO((removed ? std::string() : removed.error().message));
  REQUIRE(removed);
  CHECK_FALSE(fs::exists(doomed));
  CHECK(read_text(dir / "keep/file") == "kept");
  CHECK(remove_tree(doomed)); // nothing there: nothing to do
}

TEST_CASE("copy_tree keeps modes and symlinks, drops set-user-ID, refuses special files",
          "[tree]") {
  TempDir dir;
  fs::path from = dir / "from";
  write_file(from / "bin/tool", "#!/bin/sh\n", 04755);
  write_file(from / ".git/HEAD", "ref");
  write_file(from / "sub/.git", "kept below the top");
  fs::create_symlink("/etc/passwd", from / "passwd");
  REQUIRE(copy_tree(from, dir / "to", {.skip_top = {".git"}}));
  CHECK((fs::status(dir / "to/bin/tool").permissions() & fs::perms::all) ==
        (fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
         fs::perms::others_read | fs::perms::others_exec));
  CHECK(fs::read_symlink(dir / "to/passwd") == "/etc/passwd");
  CHECK_FALSE(fs::exists(dir / "to/.git"));
  CHECK(fs::exists(dir / "to/sub/.git"));

  REQUIRE(mkfifo((from / "fifo").c_str(), 0644) == 0);
  auto copied = copy_tree(from, dir / "again");
  REQUIRE_FALSE(copied);
  CHECK(contains(copied.error().message, "'fifo': not a regular file, directory or symlink"));
}

TEST_CASE("copy_tree and chown_tree give files to an owner, not what symlinks point at", "[tree]") {
  if (geteuid() != 0) {
    WARN("changing owners needs root: skipped");
    return;
  }
  TempDir dir;
  write_file(dir / "outside", "x");
  write_file(dir / "tree/file", "x");
  fs::create_symlink(dir / "outside", dir / "tree/link");
  Owner owner{200777, 200777};
  REQUIRE(chown_tree(dir / "tree", owner));
  struct stat st {};
  REQUIRE(::lstat((dir / "tree/file").c_str(), &st) == 0);
  CHECK(st.st_uid == owner.uid);
  REQUIRE(::lstat((dir / "tree/link").c_str(), &st) == 0);
  CHECK(st.st_uid == owner.uid);
  REQUIRE(::stat((dir / "outside").c_str(), &st) == 0);
  CHECK(st.st_uid == 0);
  REQUIRE(copy_tree(dir / "tree", dir / "copy", {.owner = owner}));
  REQUIRE(::lstat((dir / "copy").c_str(), &st) == 0);
  CHECK(st.st_uid == owner.uid);
  REQUIRE(::lstat((dir / "copy/file").c_str(), &st) == 0);
  CHECK(st.st_gid == owner.gid);
}

TEST_CASE("disk_usage counts blocks and follows no symlink", "[tree]") {
  TempDir dir;
  write_file(dir / "tree/a", std::string(100000, 'x'));
  write_file(dir / "big", std::string(1000000, 'x'));
  fs::create_symlink(dir / "big", dir / "tree/link");
  std::uint64_t used = disk_usage(dir / "tree");
  CHECK(used >= 100000);
  CHECK(used < 1000000);
  CHECK(disk_usage(dir / "missing") == 0);
}

TEST_CASE("disk_usage charges every entry a block and a tree too deep to walk as past any "
          "budget",
          "[tree]") {
  TempDir dir;
  for (int i = 0; i < 100; ++i) {
    write_file(dir / "empty" / std::to_string(i), "");
  }
  CHECK(disk_usage(dir / "empty") >= 100 * 4096);
  fs::path deep = dir / "deep";
  for (int level = 0; level < 600; ++level) {
    deep /= "d";
  }
  fs::create_directories(deep);
  CHECK(disk_usage(dir / "deep") == UINT64_MAX);
}
