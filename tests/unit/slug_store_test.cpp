#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include <catch2/catch.hpp>

#include "common/file_lock.hpp"
#include "common/hash.hpp"
#include "common/slug.hpp"
#include "runtime/apps.hpp"
#include "runtime/layout.hpp"
#include "runtime/release_store.hpp"
#include "runtime/retention.hpp"
#include "runtime/slug_store.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace std::chrono_literals;
using test::contains;
namespace fs = std::filesystem;

namespace {

PackOptions options() {
  PackOptions options;
  options.threads = 1;
  return options;
}

// A root with slugs/, and apps made with the real create_app.
struct Fixture {
  test::TempDir dir;
  Layout layout{dir.path() / "root"};
  SlugStore slugs{layout};
  int sources = 0;

  Fixture() { fs::create_directories(layout.slugs_dir()); }

  // A compiled app tree whose content is `content`.
  fs::path source(const std::string& content) {
    fs::path app = dir / ("src" + std::to_string(++sources));
    test::write_file(app / "Procfile", "web: bin/web\n");
    test::write_file(app / "bin/web", "#!/bin/sh\necho " + content + "\n", 0755);
    return app;
  }

  // A slug of `content` in the store, as a build leaves it.
  SlugInfo slug(const std::string& content) {
    auto info = pack_slug_into_store(source(content), layout.slugs_dir(), options());
    REQUIRE(info);
    return *info;
  }

  void app(const std::string& name) { REQUIRE(create_app(layout, name)); }

  // A finished release of `app` that runs `slug` (none: a config-only release).
  int release(const std::string& app, const SlugInfo* slug,
              ReleaseStatus status = ReleaseStatus::succeeded) {
    ReleaseStore store(layout, app);
    Release release;
    release.description = "deploy";
    release.created_at = std::chrono::system_clock::now();
    if (slug) {
      release.slug = "sha256:" + slug->sha256;
      release.slug_file = slug->path.filename().string();
    }
    auto created = store.create(release);
    REQUIRE(created);
    created->status = status;
    REQUIRE(store.finish(*created));
    return created->version;
  }

  void activate(const std::string& app, int version) {
    REQUIRE(ReleaseStore(layout, app).activate(version));
  }

  bool stored(const SlugInfo& slug) const { return fs::exists(slug.path); }

  std::set<std::string> names() const {
    std::set<std::string> out;
    for (const auto& entry : fs::directory_iterator(layout.slugs_dir())) {
      out.insert(entry.path().filename().string());
    }
    return out;
  }
};

Expected<std::set<std::string>> none() {
  return std::set<std::string>();
}

void age(const fs::path& path, std::chrono::hours by) {
  fs::last_write_time(path, fs::file_time_type::clock::now() - by);
}

} // namespace

TEST_CASE("add stores the slug under its SHA-256 name and records it", "[slug_store]") {
  Fixture f;
  fs::path app = f.source("hello");
  int calls = 0;
  SlugInfo seen;
  auto added = f.slugs.add(app, options(), [&](const SlugInfo& info) -> Expected<void> {
    ++calls;
    seen = info;
    // The slug is in place before the record is written...
    CHECK(fs::exists(info.path));
    // ...and no prune can run until the record is: the store is locked shared.
    auto exclusive =
        FileLock::try_acquire(f.layout.slugs_dir() / ".lock", FileLock::Mode::exclusive);
    REQUIRE(exclusive);
    CHECK_FALSE(exclusive->has_value());
    return {};
  });
  REQUIRE(added);
  CHECK(calls == 1);
  CHECK(seen.path == added->path);
  CHECK(seen.sha256 == added->sha256);

  CHECK(added->sha256.size() == 64);
  CHECK(added->path == f.layout.slugs_dir() / (added->sha256 + ".tar.zst"));
  auto hash = sha256_file(added->path);
  REQUIRE(hash);
  CHECK(*hash == added->sha256);
  CHECK(fs::file_size(added->path) == added->size);
  // Only the slug and the lock are left: no pending file.
  CHECK(f.names() == std::set<std::string>{".lock", added->sha256 + ".tar.zst"});
  // The lock is free again.
  auto exclusive = FileLock::try_acquire(f.layout.slugs_dir() / ".lock", FileLock::Mode::exclusive);
  REQUIRE(exclusive);
  CHECK(exclusive->has_value());
}

TEST_CASE("add names a gzip slug .tar.gz", "[slug_store]") {
  Fixture f;
  PackOptions gzip = options();
  gzip.compression = SlugCompression::gzip;
  auto added =
      f.slugs.add(f.source("gz"), gzip, [](const SlugInfo&) -> Expected<void> { return {}; });
  REQUIRE(added);
  CHECK(added->path.filename() == added->sha256 + ".tar.gz");
}

TEST_CASE("the same tree added twice is stored once", "[slug_store]") {
  Fixture f;
  fs::path app = f.source("same");
  auto record = [](const SlugInfo&) -> Expected<void> { return {}; };
  auto first = f.slugs.add(app, options(), record);
  auto second = f.slugs.add(app, options(), record);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->path == second->path);
  CHECK(f.names().size() == 2); // the slug and .lock
}

TEST_CASE("add passes on the error of record", "[slug_store]") {
  Fixture f;
  auto added = f.slugs.add(f.source("x"), options(), [](const SlugInfo&) -> Expected<void> {
    return fail("cannot write the release");
  });
  REQUIRE_FALSE(added);
  CHECK(added.error().message == "cannot write the release");
}

TEST_CASE("add of a tree that cannot be packed stores nothing and records nothing",
          "[slug_store]") {
  Fixture f;
  bool called = false;
  auto added = f.slugs.add(f.dir / "missing", options(), [&](const SlugInfo&) -> Expected<void> {
    called = true;
    return {};
  });
  REQUIRE_FALSE(added);
  CHECK_FALSE(called);
  for (const auto& name : f.names()) {
    CHECK(name == ".lock");
  }
}

TEST_CASE("has is true only for a release whose slug is in the store", "[slug_store]") {
  Fixture f;
  SlugInfo slug = f.slug("a");
  Release release;
  CHECK_FALSE(f.slugs.has(release));
  release.slug = "sha256:" + slug.sha256;
  release.slug_file = slug.path.filename().string();
  CHECK(f.slugs.has(release));
  CHECK(f.slugs.path(release) == slug.path);
  REQUIRE(f.slugs.prune(none));
  CHECK_FALSE(f.slugs.has(release));
}

TEST_CASE("prune removes unreferenced slugs and keeps referenced ones and the lock",
          "[slug_store]") {
  Fixture f;
  SlugInfo kept = f.slug("kept");
  SlugInfo gone = f.slug("gone");
  SlugInfo also_gone = f.slug("also gone");
  test::write_file(f.layout.slugs_dir() / ".lock", "");
  std::string kept_name = kept.path.filename().string();
  int asked = 0;
  auto removed = f.slugs.prune([&]() -> Expected<std::set<std::string>> {
    ++asked;
    // Asked under the exclusive lock.
    auto shared = FileLock::try_acquire(f.layout.slugs_dir() / ".lock", FileLock::Mode::shared);
    REQUIRE(shared);
    CHECK_FALSE(shared->has_value());
    return std::set<std::string>{kept_name, "not-in-the-store.tar.zst"};
  });
  REQUIRE(removed);
  CHECK(*removed == 2);
  CHECK(asked == 1);
  CHECK(f.stored(kept));
  CHECK_FALSE(f.stored(gone));
  CHECK_FALSE(f.stored(also_gone));
  CHECK(f.names() == std::set<std::string>{".lock", kept_name});
}

TEST_CASE("prune keeps temp files younger than a day and removes older ones", "[slug_store]") {
  Fixture f;
  fs::path slugs = f.layout.slugs_dir();
  test::write_file(slugs / ".pending-123.slug", "packing");
  test::write_file(slugs / ".pending-124.slug.tmp.AbC123", "packing");
  test::write_file(slugs / ".pending-456.slug", "abandoned");
  test::write_file(slugs / ".pending-457.slug.tmp.XyZ789", "abandoned");
  age(slugs / ".pending-123.slug", 23h);
  age(slugs / ".pending-456.slug", 25h);
  age(slugs / ".pending-457.slug.tmp.XyZ789", 24h * 30);

  auto removed = f.slugs.prune(none);
  REQUIRE(removed);
  CHECK(*removed == 0); // temp files are not slugs
  CHECK(f.names() ==
        std::set<std::string>{".lock", ".pending-123.slug", ".pending-124.slug.tmp.AbC123"});
}

TEST_CASE("prune removes nothing when the referenced slugs cannot be counted", "[slug_store]") {
  Fixture f;
  SlugInfo slug = f.slug("a");
  auto removed = f.slugs.prune(
      []() -> Expected<std::set<std::string>> { return fail("cannot read releases"); });
  REQUIRE_FALSE(removed);
  CHECK(removed.error().message == "cannot read releases");
  CHECK(f.stored(slug));
}

TEST_CASE("prune_slugs keeps the newest releases and the live one across apps", "[slug_store]") {
  Fixture f;
  Config config;
  config.release.keep_releases = 2;
  SlugInfo s1 = f.slug("1"), s2 = f.slug("2"), s3 = f.slug("3"), s4 = f.slug("4"), s5 = f.slug("5"),
           orphan = f.slug("orphan");
  f.app("alpha");
  f.app("beta");
  f.release("alpha", &s1);                        // v1: live again after a rollback
  f.release("alpha", &s2);                        // v2: too old in alpha, but beta's newest uses it
  f.release("alpha", &s3);                        // v3
  f.release("alpha", &s4, ReleaseStatus::failed); // v4: the newest counts, whatever its status
  f.activate("alpha", 1);
  f.release("beta", &s5);     // v1: too old
  f.release("beta", &s2);     // v2
  f.release("beta", nullptr); // v3: config-only
  f.activate("beta", 3);

  auto removed = prune_slugs(f.layout, config);
  REQUIRE(removed);
  CHECK(*removed == 2);
  CHECK(f.stored(s1));
  CHECK(f.stored(s2));
  CHECK(f.stored(s3));
  CHECK(f.stored(s4));
  CHECK_FALSE(f.stored(s5));
  CHECK_FALSE(f.stored(orphan));

  // A release whose slug went is still listed; it just has no slug to run.
  auto beta = ReleaseStore(f.layout, "beta").get(1);
  REQUIRE(beta);
  CHECK_FALSE(f.slugs.has(*beta));
}

TEST_CASE("prune_slugs with keep_releases 1 keeps only the newest and the live slug",
          "[slug_store]") {
  Fixture f;
  Config config;
  config.release.keep_releases = 1;
  SlugInfo s1 = f.slug("1"), s2 = f.slug("2"), s3 = f.slug("3");
  f.app("demo");
  f.release("demo", &s1);
  f.release("demo", &s2);
  f.release("demo", &s3, ReleaseStatus::pending);
  f.activate("demo", 2);
  auto removed = prune_slugs(f.layout, config);
  REQUIRE(removed);
  CHECK(*removed == 1);
  CHECK_FALSE(f.stored(s1));
  CHECK(f.stored(s2));
  CHECK(f.stored(s3));
}

TEST_CASE("prune_slugs removes nothing when any app has a corrupt record", "[slug_store]") {
  Fixture f;
  Config config;
  config.release.keep_releases = 1;
  SlugInfo s1 = f.slug("1"), s2 = f.slug("2"), orphan = f.slug("orphan");
  f.app("alpha");
  f.app("beta");
  f.release("alpha", &s1);
  f.release("alpha", &s2);
  f.release("beta", &s2);
  test::write_file(ReleaseStore(f.layout, "beta").dir(1) / "release.toml", "version = [\n", 0600);
  auto names = f.names();
  names.insert(".lock"); // taken by the prune

  auto removed = prune_slugs(f.layout, config);
  REQUIRE_FALSE(removed);
  CHECK(contains(removed.error().message, "not pruning slugs"));
  CHECK(contains(removed.error().message, "is corrupt"));
  CHECK(f.stored(s1));
  CHECK(f.stored(orphan));
  CHECK(f.names() == names);
}

TEST_CASE("prune_slugs removes nothing when a vN dir has no record", "[slug_store]") {
  Fixture f;
  Config config;
  config.release.keep_releases = 1;
  SlugInfo s1 = f.slug("1"), s2 = f.slug("2");
  f.app("demo");
  f.release("demo", &s1);
  f.release("demo", &s2);
  fs::create_directory(ReleaseStore(f.layout, "demo").dir(3));
  auto removed = prune_slugs(f.layout, config);
  REQUIRE_FALSE(removed);
  CHECK(contains(removed.error().message, "release v3 does not exist"));
  CHECK(f.stored(s1));
}
