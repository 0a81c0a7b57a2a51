// flock(2) locks belong to an open file description, so two FileLocks on the same file
// conflict even within one process: each acquire opens the file afresh.
#include <filesystem>
#include <optional>
#include <utility>

#include <catch2/catch.hpp>

#include "common/file_lock.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
namespace fs = std::filesystem;
using Mode = FileLock::Mode;

namespace {

// Whether a lock in `mode` could be had on `file` right now.
bool available(const fs::path& file, Mode mode) {
  auto lock = FileLock::try_acquire(file, mode);
  REQUIRE(lock);
  return lock->has_value();
}

} // namespace

TEST_CASE("the lock file is created when it does not exist", "[file_lock]") {
  test::TempDir dir;
  fs::path file = dir / "deploy.lock";
  auto lock = FileLock::acquire(file, Mode::exclusive);
  REQUIRE(lock);
  CHECK(fs::is_regular_file(file));
  CHECK((fs::status(file).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("an exclusive lock excludes every other lock", "[file_lock]") {
  test::TempDir dir;
  fs::path file = dir / "lock";
  auto held = FileLock::acquire(file, Mode::exclusive);
  REQUIRE(held);
  CHECK_FALSE(available(file, Mode::exclusive));
  CHECK_FALSE(available(file, Mode::shared));
}

TEST_CASE("shared locks coexist", "[file_lock]") {
  test::TempDir dir;
  fs::path file = dir / "lock";
  auto first = FileLock::acquire(file, Mode::shared);
  REQUIRE(first);
  auto second = FileLock::try_acquire(file, Mode::shared);
  REQUIRE(second);
  REQUIRE(second->has_value());
  auto third = FileLock::acquire(file, Mode::shared);
  REQUIRE(third);
  CHECK_FALSE(available(file, Mode::exclusive));
}

TEST_CASE("a shared lock keeps an exclusive one out until it is released", "[file_lock]") {
  test::TempDir dir;
  fs::path file = dir / "lock";
  {
    auto shared = FileLock::acquire(file, Mode::shared);
    REQUIRE(shared);
    CHECK_FALSE(available(file, Mode::exclusive));
  }
  CHECK(available(file, Mode::exclusive));
}

TEST_CASE("an exclusive lock is released when it is destroyed", "[file_lock]") {
  test::TempDir dir;
  fs::path file = dir / "lock";
  {
    auto held = FileLock::try_acquire(file, Mode::exclusive);
    REQUIRE(held);
    REQUIRE(held->has_value());
    CHECK_FALSE(available(file, Mode::shared));
  }
  CHECK(available(file, Mode::exclusive));
  CHECK(available(file, Mode::shared));
  // And a blocking acquire does not block.
  auto again = FileLock::acquire(file, Mode::exclusive);
  CHECK(again);
}

TEST_CASE("a moved-out lock is held by its new owner and released with it", "[file_lock]") {
  test::TempDir dir;
  fs::path file = dir / "lock";
  std::optional<FileLock> owner;
  {
    auto held = FileLock::acquire(file, Mode::exclusive);
    REQUIRE(held);
    owner.emplace(std::move(*held));
  } // the moved-from lock is destroyed here and must not release anything
  CHECK_FALSE(available(file, Mode::shared));
  {
    FileLock next(std::move(*owner));
    owner.reset();
    CHECK_FALSE(available(file, Mode::exclusive));
  }
  CHECK(available(file, Mode::exclusive));
}

TEST_CASE("a lock moved out of try_acquire's result is still held", "[file_lock]") {
  test::TempDir dir;
  fs::path file = dir / "lock";
  std::optional<FileLock> owner;
  {
    auto result = FileLock::try_acquire(file, Mode::shared);
    REQUIRE(result);
    REQUIRE(result->has_value());
    owner.emplace(std::move(**result));
  }
  CHECK_FALSE(available(file, Mode::exclusive));
  CHECK(available(file, Mode::shared));
  owner.reset();
  CHECK(available(file, Mode::exclusive));
}

TEST_CASE("a lock file that cannot be opened is an error that names it", "[file_lock]") {
  test::TempDir dir;
  fs::path file = dir / "missing-dir" / "lock";
  auto lock = FileLock::acquire(file, Mode::exclusive);
  REQUIRE_FALSE(lock);
  CHECK(contains(lock.error().message, "cannot open '" + file.string() + "'"));
  auto tried = FileLock::try_acquire(file, Mode::shared);
  REQUIRE_FALSE(tried);
  CHECK(contains(tried.error().message, file.string()));
}
