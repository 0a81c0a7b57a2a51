#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "runtime/build_cache.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::read_text;
using test::TempDir;
using test::write_file;
namespace fs = std::filesystem;

namespace {

// An app's directory with a cache holding one file, and a deploy's scratch root.
struct App {
  TempDir dir;
  Layout layout{dir.path()};
  fs::path root = layout.tmp_dir("demo") / "deploy-x" / "root";

  App() {
    write_file(layout.cache_dir("demo") / "node_modules.key", "k1\n");
    fs::create_directories(root);
  }
};

} // namespace

TEST_CASE("a deploy's build takes the app's cache into its root and puts it back",
          "[build_cache]") {
  App app;
  {
    auto cache = BuildCache::take(app.layout, "demo", app.root);
    REQUIRE(cache);
    CHECK(cache->dir() == app.root / "cache");
    CHECK_FALSE(fs::exists(app.layout.cache_dir("demo")));
    CHECK(read_text(cache->dir() / "node_modules.key") == "k1\n");
    write_file(cache->dir() / "node_modules.key", "k2\n"); // what the build left
    REQUIRE(cache->put_back());
  }
  CHECK(read_text(app.layout.cache_dir("demo") / "node_modules.key") == "k2\n");
  CHECK_FALSE(fs::exists(app.root / "cache"));

  // Without a cache, the build gets an empty one, kept after it.
  fs::remove_all(app.layout.cache_dir("demo"));
  {
    auto cache = BuildCache::take(app.layout, "demo", app.root);
    REQUIRE(cache);
    CHECK(fs::is_empty(cache->dir()));
    write_file(cache->dir() / "made", "");
  } // the destructor puts it back
  CHECK(fs::exists(app.layout.cache_dir("demo") / "made"));
}

TEST_CASE("a cache made while a build held the app's goes to the trash when it comes back",
          "[build_cache]") {
  App app;
  auto cache = BuildCache::take(app.layout, "demo", app.root);
  REQUIRE(cache);
  // Something made one meanwhile (slipway does not: test builds have a cache of their own).
  write_file(app.layout.cache_dir("demo") / "node_modules.key", "other\n");
  REQUIRE(cache->put_back());
  CHECK(read_text(app.layout.cache_dir("demo") / "node_modules.key") == "k1\n");
  std::size_t trashed = 0;
  for (const auto& entry : fs::directory_iterator(app.layout.trash_dir("demo"))) {
    CHECK(read_text(entry.path() / "node_modules.key") == "other\n");
    ++trashed;
  }
  CHECK(trashed == 1);
}

TEST_CASE("what a build left at its root's cache comes home only as a directory", "[build_cache]") {
  App app;
  auto cache = BuildCache::take(app.layout, "demo", app.root);
  REQUIRE(cache);
  fs::path elsewhere = app.dir / "elsewhere";
  fs::create_directories(elsewhere);
  fs::rename(cache->dir(), app.dir / "moved");
  fs::create_directory_symlink(elsewhere, cache->dir());
  auto back = cache->put_back();
  REQUIRE_FALSE(back);
  CHECK(test::contains(back.error().message, "no longer a directory"));
  CHECK_FALSE(fs::exists(fs::symlink_status(app.layout.cache_dir("demo"))));
}

TEST_CASE("a cache that a dead deploy held goes home at housekeeping", "[build_cache]") {
  App app;
  // The deploy dies holding it: no destructor runs.
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto cache = BuildCache::take(app.layout, "demo", app.root);
    _exit(cache ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE_FALSE(fs::exists(app.layout.cache_dir("demo")));
  REQUIRE(fs::exists(app.root / "cache/node_modules.key"));

  CHECK(recover_build_cache(app.layout, "demo"));
  CHECK(read_text(app.layout.cache_dir("demo") / "node_modules.key") == "k1\n");
  // Once home, nothing more is taken from scratch dirs.
  fs::create_directories(app.root / "cache");
  CHECK_FALSE(recover_build_cache(app.layout, "demo"));
}

TEST_CASE("the next deploy takes the cache that a dead deploy held", "[build_cache]") {
  App app;
  fs::path dead = app.layout.tmp_dir("demo") / "deploy-dead" / "root";
  fs::create_directories(dead);
  fs::rename(app.layout.cache_dir("demo"), dead / "cache");
  auto cache = BuildCache::take(app.layout, "demo", app.root);
  REQUIRE(cache);
  CHECK(read_text(cache->dir() / "node_modules.key") == "k1\n");
  CHECK_FALSE(fs::exists(dead / "cache"));
}

TEST_CASE("a cache that is a link is used where it is, and another scratch dir's is not taken",
          "[build_cache]") {
  App app;
  fs::path disk = app.dir / "other-disk/cache";
  fs::create_directories(disk.parent_path());
  fs::rename(app.layout.cache_dir("demo"), disk);
  fs::create_directory_symlink(disk, app.layout.cache_dir("demo"));
  {
    auto cache = BuildCache::take(app.layout, "demo", app.root);
    REQUIRE(cache);
    CHECK(cache->dir() == app.layout.cache_dir("demo"));
    REQUIRE(cache->put_back());
  }
  CHECK(fs::is_symlink(app.layout.cache_dir("demo")));
  CHECK(read_text(disk / "node_modules.key") == "k1\n");

  // A release command's scratch dir is the app's to write: what it holds is no cache.
  fs::remove(app.layout.cache_dir("demo"));
  fs::path planted = app.layout.tmp_dir("demo") / "release-v3-1" / "root" / "cache";
  fs::create_directories(planted);
  CHECK_FALSE(recover_build_cache(app.layout, "demo"));
  CHECK(fs::exists(planted));
}
