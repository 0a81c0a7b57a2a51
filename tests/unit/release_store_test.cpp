#include <algorithm>
#include <filesystem>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "runtime/layout.hpp"
#include "runtime/release_store.hpp"
#include "runtime/retention.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
namespace fs = std::filesystem;

namespace {

// A root with apps/demo/releases, as create_app leaves it.
struct Fixture {
  test::TempDir dir;
  Layout layout{dir.path()};
  ReleaseStore store{layout, "demo"};

  Fixture() { fs::create_directories(layout.releases_dir("demo")); }

  Release make(const std::string& description) {
    Release release;
    release.description = description;
    release.created_at = std::chrono::sys_days{std::chrono::year{2026} / 11 / 26};
    release.config = {{"FOO", "bar"}};
    auto created = store.create(release);
    REQUIRE(created);
    return *created;
  }

  Release settle(Release release, ReleaseStatus status) {
    release.status = status;
    REQUIRE(store.finish(release));
    return release;
  }

  fs::path record(int version) const { return store.dir(version) / "release.toml"; }
};

mode_t mode_of(const fs::path& path) {
  struct stat info {};
  REQUIRE(stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::ranges::sort(names);
  return names;
}

} // namespace

TEST_CASE("versions are allocated from 1 upwards and written as pending", "[release_store]") {
  Fixture f;
  Release wanted;
  wanted.version = 99;
  wanted.status = ReleaseStatus::succeeded;
  wanted.description = "first";
  auto first = f.store.create(wanted);
  REQUIRE(first);
  CHECK(first->version == 1);
  CHECK(first->status == ReleaseStatus::pending);
  CHECK(f.make("second").version == 2);
  CHECK(f.make("third").version == 3);

  auto read = f.store.get(1);
  REQUIRE(read);
  CHECK(read->version == 1);
  CHECK(read->status == ReleaseStatus::pending);
  CHECK(read->description == "first");
  CHECK(fs::is_directory(f.layout.release_dir("demo", 3)));
}

TEST_CASE("the releases dir is created when it is missing", "[release_store]") {
  test::TempDir dir;
  Layout layout(dir.path());
  ReleaseStore store(layout, "demo");
  auto created = store.create(Release{.description = "first"});
  REQUIRE(created);
  CHECK(created->version == 1);
  CHECK(fs::exists(layout.releases_dir("demo") / "v1" / "release.toml"));
}

TEST_CASE("a new version is the highest existing one plus 1, gaps are not refilled",
          "[release_store]") {
  Fixture f;
  f.make("v1");
  f.make("v2");
  f.make("v3");
  fs::remove_all(f.store.dir(2));
  CHECK(f.make("after a gap").version == 4);
  fs::remove_all(f.store.dir(1));
  CHECK(f.make("after removing the oldest").version == 5);
}

TEST_CASE("a vN dir without a record still counts as used", "[release_store]") {
  Fixture f;
  f.make("v1");
  fs::create_directory(f.store.dir(7));
  CHECK(f.make("next").version == 8);
  fs::remove(f.record(8));
  CHECK(f.make("after an unwritten record").version == 9);
}

TEST_CASE("entries in releases that are not vN dirs do not change the next version",
          "[release_store]") {
  Fixture f;
  for (std::string name : {"v0", "v01", "v1x", "v-1", "v-5", "vv2", "V3", "v", "v 4", "notes",
                           "v99999999999999999999"}) {
    fs::create_directory(f.layout.releases_dir("demo") / name);
  }
  CHECK(f.make("first").version == 1);
  CHECK(f.make("second").version == 2);
  std::vector<std::string> problems;
  auto releases = f.store.list(&problems);
  CHECK(problems.empty());
  REQUIRE(releases.size() == 2);
  CHECK(releases[0].version == 1);
  CHECK(releases[1].version == 2);
}

TEST_CASE("finish rewrites a release that leaves pending", "[release_store]") {
  Fixture f;
  Release release = f.make("deploy");
  release.status = ReleaseStatus::failed;
  release.reason = "build failed";
  REQUIRE(f.store.finish(release));
  auto read = f.store.get(release.version);
  REQUIRE(read);
  CHECK(read->status == ReleaseStatus::failed);
  CHECK(read->reason == "build failed");
  CHECK(read->config == ConfigVars{{"FOO", "bar"}});
}

TEST_CASE("release.toml is written with mode 0600", "[release_store]") {
  Fixture f;
  Release release = f.make("deploy");
  CHECK(mode_of(f.record(1)) == 0600);
  f.settle(release, ReleaseStatus::succeeded);
  CHECK(mode_of(f.record(1)) == 0600);
  // No temp files are left beside it.
  CHECK(names_in(f.store.dir(1)) == std::vector<std::string>{"release.toml"});
}

TEST_CASE("nothing is live before the first activate", "[release_store]") {
  Fixture f;
  f.make("pending");
  CHECK_FALSE(f.store.live_version());
  auto live = f.store.live();
  REQUIRE(live);
  CHECK_FALSE(live->has_value());
}

TEST_CASE("activate points current at releases/vN with a relative symlink", "[release_store]") {
  Fixture f;
  f.settle(f.make("one"), ReleaseStatus::succeeded);
  f.settle(f.make("two"), ReleaseStatus::succeeded);
  fs::path current = f.layout.current_link("demo");

  REQUIRE(f.store.activate(2));
  REQUIRE(fs::is_symlink(current));
  CHECK(fs::read_symlink(current) == fs::path("releases/v2"));
  CHECK(fs::read_symlink(current).is_relative());
  CHECK(fs::equivalent(current, f.store.dir(2)));
  CHECK(f.store.live_version() == 2);
  auto live = f.store.live();
  REQUIRE(live);
  REQUIRE(live->has_value());
  CHECK((*live)->description == "two");

  REQUIRE(f.store.activate(1));
  CHECK(fs::read_symlink(current) == fs::path("releases/v1"));
  CHECK(f.store.live_version() == 1);
  // No temp link is left beside `current`.
  for (const auto& name : names_in(f.layout.app_dir("demo"))) {
    CHECK_FALSE(name.starts_with("current.new-"));
  }
}

TEST_CASE("the live release is an error when its record is unreadable", "[release_store]") {
  Fixture f;
  f.settle(f.make("one"), ReleaseStatus::succeeded);
  REQUIRE(f.store.activate(1));
  test::write_file(f.record(1), "not toml at all");
  CHECK(f.store.live_version() == 1);
  auto live = f.store.live();
  REQUIRE_FALSE(live);
  CHECK(contains(live.error().message, "is corrupt"));
}

TEST_CASE("recover settles the pending releases and vN dirs without a record above the "
          "newest settled one",
          "[release_store]") {
  Fixture f;
  f.settle(f.make("old"), ReleaseStatus::succeeded);     // v1
  f.settle(f.make("failed"), ReleaseStatus::failed);     // v2
  Release live = f.make("went live before the crash");   // v3, pending
  Release lost = f.make("crashed in the release phase"); // v4, pending
  fs::create_directory(f.store.dir(5));                  // v5: mkdir, then the crash
  REQUIRE(f.store.activate(live.version));
  fs::path app = f.layout.app_dir("demo");
  fs::create_symlink("releases/v3", app / "current.new-12345");
  fs::create_symlink("releases/v9", app / "current.new-1");

  auto settled = f.store.recover();
  REQUIRE(settled);
  CHECK(*settled == std::vector<int>{3, 4, 5});

  auto v1 = f.store.get(1);
  REQUIRE(v1);
  CHECK(v1->status == ReleaseStatus::succeeded);
  auto v2 = f.store.get(2);
  REQUIRE(v2);
  CHECK(v2->status == ReleaseStatus::failed);
  CHECK(v2->reason.empty());
  auto v3 = f.store.get(3);
  REQUIRE(v3);
  CHECK(v3->status == ReleaseStatus::succeeded);
  CHECK(v3->reason.empty());
  CHECK(v3->description == "went live before the crash");
  auto v4 = f.store.get(4);
  REQUIRE(v4);
  CHECK(v4->status == ReleaseStatus::failed);
  CHECK(v4->reason == "interrupted");
  CHECK(v4->description == "crashed in the release phase");
  CHECK(v4->config == ConfigVars{{"FOO", "bar"}});
  auto v5 = f.store.get(5);
  REQUIRE(v5);
  CHECK(v5->version == 5);
  CHECK(v5->status == ReleaseStatus::failed);
  CHECK(v5->description == "Interrupted release");
  CHECK(v5->reason == "interrupted");
  CHECK(mode_of(f.record(5)) == 0600);

  CHECK_FALSE(fs::exists(fs::symlink_status(app / "current.new-12345")));
  CHECK_FALSE(fs::exists(fs::symlink_status(app / "current.new-1")));
  CHECK(f.store.live_version() == 3);
  CHECK(fs::read_symlink(f.layout.current_link("demo")) == fs::path("releases/v3"));

  // Everything is settled now: a second recover has nothing to do.
  auto again = f.store.recover();
  REQUIRE(again);
  CHECK(again->empty());
  CHECK(f.make("next").version == 6);
}

TEST_CASE("recover reads no further down than the newest settled release", "[release_store]") {
  // Every operation recovers before it creates a release, so nothing below a settled record
  // is pending; recover's cost does not grow with the app's history.
  Fixture f;
  f.make("never settled"); // v1: a state no sequence of operations leaves
  f.settle(f.make("settled"), ReleaseStatus::succeeded); // v2
  f.make("crashed");                                     // v3
  test::write_file(f.record(1), "garbage = [", 0600);    // not read: no error

  auto settled = f.store.recover();
  REQUIRE(settled);
  CHECK(*settled == std::vector<int>{3});
  CHECK(test::read_text(f.record(1)) == "garbage = [");
}

TEST_CASE("recover with nothing live fails every pending release", "[release_store]") {
  Fixture f;
  f.make("one");
  f.make("two");
  auto settled = f.store.recover();
  REQUIRE(settled);
  CHECK(*settled == std::vector<int>{1, 2});
  for (int version : {1, 2}) {
    auto release = f.store.get(version);
    REQUIRE(release);
    CHECK(release->status == ReleaseStatus::failed);
    CHECK(release->reason == "interrupted");
  }
}

TEST_CASE("recover leaves a corrupt record as it is", "[release_store]") {
  Fixture f;
  f.make("one");
  test::write_file(f.record(1), "garbage = [", 0600);
  auto settled = f.store.recover();
  REQUIRE(settled);
  CHECK(settled->empty());
  CHECK(test::read_text(f.record(1)) == "garbage = [");
}

TEST_CASE("list reports an unreadable record in problems and leaves it out", "[release_store]") {
  Fixture f;
  f.make("one");
  f.make("two");
  f.make("three");
  test::write_file(f.record(2), "version = \"two\"\n", 0600);
  fs::create_directory(f.store.dir(4));

  std::vector<std::string> problems;
  auto releases = f.store.list(&problems);
  REQUIRE(releases.size() == 2);
  CHECK(releases[0].version == 1);
  CHECK(releases[1].version == 3);
  REQUIRE(problems.size() == 2);
  CHECK(contains(problems[0], f.record(2).string()));
  CHECK(contains(problems[0], "is corrupt"));
  CHECK(contains(problems[1], "release v4 does not exist"));

  // Without somewhere to report them, problems are still left out.
  CHECK(f.store.list().size() == 2);
}

TEST_CASE("list gives releases oldest first, in numeric order", "[release_store]") {
  Fixture f;
  for (int i = 1; i <= 12; ++i) {
    f.make("release " + std::to_string(i));
  }
  auto releases = f.store.list();
  REQUIRE(releases.size() == 12);
  for (int i = 0; i < 12; ++i) {
    CHECK(releases[static_cast<std::size_t>(i)].version == i + 1);
  }
}

TEST_CASE("get of a record whose version does not match its dir is an error", "[release_store]") {
  Fixture f;
  f.make("one");
  f.make("two");
  // v2's record copied into v1: it says it is v2.
  fs::copy_file(f.record(2), f.record(1), fs::copy_options::overwrite_existing);
  auto got = f.store.get(1);
  REQUIRE_FALSE(got);
  CHECK(contains(got.error().message, f.record(1).string()));
  CHECK(contains(got.error().message, "it says it is v2"));
  std::vector<std::string> problems;
  CHECK(f.store.list(&problems).size() == 1);
  CHECK(problems.size() == 1);
}

TEST_CASE("get of a version that does not exist is an error", "[release_store]") {
  Fixture f;
  auto got = f.store.get(3);
  REQUIRE_FALSE(got);
  CHECK(got.error().message == "release v3 does not exist");
}

TEST_CASE("the release log lives in the release dir", "[release_store]") {
  Fixture f;
  CHECK(f.store.output_log(4) == f.layout.apps_dir() / "demo" / "releases" / "v4" / "release.log");
}

TEST_CASE("unpacked release files go with the releases that keep no slug, never the live one",
          "[release_store]") {
  Fixture fixture;
  for (int i = 1; i <= 4; ++i) {
    fixture.settle(fixture.make("r"), ReleaseStatus::succeeded);
    fs::create_directories(fixture.layout.unpacked_dir("demo", i));
  }
  REQUIRE(fixture.store.activate(1));
  Config config;
  config.release.keep_releases = 2;
  CHECK(prune_unpacked(fixture.layout, config, "demo") == 1); // v2; v1 is live
  CHECK(fs::exists(fixture.layout.unpacked_dir("demo", 1)));
  CHECK_FALSE(fs::exists(fixture.layout.unpacked_dir("demo", 2)));
  CHECK(fs::exists(fixture.layout.unpacked_dir("demo", 3)));
  CHECK(fs::exists(fixture.layout.unpacked_dir("demo", 4)));
  CHECK(fs::exists(fixture.record(2))); // the record stays
  CHECK(prune_unpacked(fixture.layout, config, "demo") == 0);
}

TEST_CASE("a missing, dangling or failed current reads as the newest succeeded release",
          "[release_store]") {
  Fixture f;
  f.settle(f.make("one"), ReleaseStatus::succeeded);
  f.settle(f.make("two"), ReleaseStatus::succeeded);
  f.settle(f.make("three"), ReleaseStatus::failed);
  REQUIRE(f.store.activate(1));
  CHECK(f.store.live_version() == 1); // what current names, when it names a usable release
  REQUIRE(f.store.activate(2));
  CHECK(f.store.link_is_sound());
  fs::remove(f.layout.current_link("demo"));
  CHECK(f.store.live_version() == 2);
  CHECK_FALSE(f.store.link_is_sound());
  fs::create_symlink("releases/v9", f.layout.current_link("demo"));
  CHECK(f.store.live_version() == 2);
  REQUIRE(f.store.activate(3));
  CHECK(f.store.live_version() == 2);
  CHECK_FALSE(f.store.link_is_sound());
  REQUIRE(f.store.deactivate());
  CHECK_FALSE(fs::exists(fs::symlink_status(f.layout.current_link("demo"))));
}
