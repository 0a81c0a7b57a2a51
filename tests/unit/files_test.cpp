#include <algorithm>
#include <filesystem>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "common/files.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
namespace fs = std::filesystem;

namespace {

// Every name in `dir`, sorted.
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::ranges::sort(names);
  return names;
}

mode_t mode_of(const fs::path& path) {
  struct stat info {};
  REQUIRE(stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

} // namespace

TEST_CASE("a committed file replaces the target", "[files]") {
  test::TempDir dir;
  test::write_file(dir / "state", "old");
  {
    auto file = AtomicFile::create(dir / "state");
    REQUIRE(file);
    REQUIRE(file->write("new "));
    REQUIRE(file->write("content"));
    CHECK(test::read_text(dir / "state") == "old"); // not yet
    REQUIRE(file->commit());
    CHECK(test::read_text(dir / "state") == "new content");
  }
  CHECK(test::read_text(dir / "state") == "new content");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"state"});
}

TEST_CASE("a committed file creates a target that did not exist", "[files]") {
  test::TempDir dir;
  auto file = AtomicFile::create(dir / "fresh");
  REQUIRE(file);
  REQUIRE(file->write(std::string("bytes\0with nul", 14)));
  REQUIRE(file->commit());
  CHECK(test::read_text(dir / "fresh") == std::string("bytes\0with nul", 14));
}

TEST_CASE("the temp file is beside the target until commit", "[files]") {
  test::TempDir dir;
  auto file = AtomicFile::create(dir / "state");
  REQUIRE(file);
  CHECK(file->fd() >= 0);
  CHECK(file->temp_path().parent_path() == dir.path());
  CHECK(file->temp_path().filename().string().starts_with("state.tmp."));
  CHECK(fs::exists(file->temp_path()));
  CHECK_FALSE(fs::exists(dir / "state"));
  REQUIRE(file->commit());
  CHECK(names_in(dir.path()) == std::vector<std::string>{"state"});
}

TEST_CASE("destroyed without commit, the target is untouched and no temp file is left", "[files]") {
  test::TempDir dir;
  test::write_file(dir / "state", "old", 0640);
  fs::path temp;
  {
    auto file = AtomicFile::create(dir / "state", 0600);
    REQUIRE(file);
    temp = file->temp_path();
    REQUIRE(file->write("half-written"));
    CHECK(fs::exists(temp));
  }
  CHECK_FALSE(fs::exists(temp));
  CHECK(test::read_text(dir / "state") == "old");
  CHECK(mode_of(dir / "state") == 0640);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"state"});
}

TEST_CASE("destroyed without commit, no target is created", "[files]") {
  test::TempDir dir;
  {
    auto file = AtomicFile::create(dir / "never");
    REQUIRE(file);
    REQUIRE(file->write("data"));
  }
  CHECK(names_in(dir.path()).empty());
}

TEST_CASE("the mode given is the committed file's mode, whatever the umask", "[files]") {
  test::TempDir dir;
  mode_t old_umask = umask(0077);
  for (mode_t mode : {mode_t(0600), mode_t(0644), mode_t(0755), mode_t(0640)}) {
    INFO(fmt::format("{:o}", mode));
    auto name = dir / fmt::format("file-{:o}", mode);
    REQUIRE(write_file_atomic(name, "x", mode));
    CHECK(mode_of(name) == mode);
  }
  umask(old_umask);
}

TEST_CASE("a replaced file takes the new mode", "[files]") {
  test::TempDir dir;
  test::write_file(dir / "secret", "public", 0644);
  REQUIRE(write_file_atomic(dir / "secret", "private", 0600));
  CHECK(mode_of(dir / "secret") == 0600);
  CHECK(test::read_text(dir / "secret") == "private");
}

TEST_CASE("the temp file already has the mode before commit", "[files]") {
  test::TempDir dir;
  auto file = AtomicFile::create(dir / "key", 0600);
  REQUIRE(file);
  CHECK(mode_of(file->temp_path()) == 0600);
}

TEST_CASE("a moved-from AtomicFile neither commits nor removes the temp file", "[files]") {
  test::TempDir dir;
  auto created = AtomicFile::create(dir / "state");
  REQUIRE(created);
  fs::path temp = created->temp_path();
  {
    AtomicFile moved(std::move(*created));
    CHECK(moved.temp_path() == temp);
    CHECK(created->fd() == -1);
    CHECK(created->temp_path().empty());
    REQUIRE(moved.write("moved"));
    REQUIRE(moved.commit());
  }
  CHECK(test::read_text(dir / "state") == "moved");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"state"});
}

TEST_CASE("creating beside a missing directory is an error that names the target", "[files]") {
  test::TempDir dir;
  auto file = AtomicFile::create(dir / "missing" / "state");
  REQUIRE_FALSE(file);
  CHECK(contains(file.error().message, "cannot create a temporary file beside"));
  CHECK(contains(file.error().message, (dir / "missing" / "state").string()));
}

TEST_CASE("a failed commit leaves the target untouched and no temp file", "[files]") {
  test::TempDir dir;
  fs::create_directories(dir / "state" / "inside"); // a non-empty directory cannot be replaced
  {
    auto file = AtomicFile::create(dir / "state");
    REQUIRE(file);
    REQUIRE(file->write("x"));
    auto committed = file->commit();
    REQUIRE_FALSE(committed);
    CHECK(contains(committed.error().message, "cannot rename"));
    CHECK(contains(committed.error().message, (dir / "state").string()));
  }
  CHECK(fs::is_directory(dir / "state" / "inside"));
  CHECK(names_in(dir.path()) == std::vector<std::string>{"state"});
}

TEST_CASE("write_file_atomic replaces a file in one step", "[files]") {
  test::TempDir dir;
  REQUIRE(write_file_atomic(dir / "a", "first"));
  REQUIRE(write_file_atomic(dir / "a", "second"));
  CHECK(test::read_text(dir / "a") == "second");
  REQUIRE(write_file_atomic(dir / "a", ""));
  CHECK(test::read_text(dir / "a").empty());
  CHECK(names_in(dir.path()) == std::vector<std::string>{"a"});
}

TEST_CASE("rename_durable swaps a symlink into place", "[files]") {
  test::TempDir dir;
  fs::create_directories(dir / "v1");
  fs::create_directories(dir / "v2");
  fs::create_directory_symlink("v1", dir / "current");
  fs::create_directory_symlink("v2", dir / "current.new");
  REQUIRE(rename_durable(dir / "current.new", dir / "current"));
  CHECK(fs::read_symlink(dir / "current") == "v2");
  CHECK_FALSE(fs::exists(fs::symlink_status(dir / "current.new")));
  auto missing = rename_durable(dir / "nothing", dir / "current");
  REQUIRE_FALSE(missing);
  CHECK(contains(missing.error().message, "cannot rename"));
  CHECK(contains(missing.error().message, (dir / "nothing").string()));
}

TEST_CASE("fsync_directory names a directory it cannot open", "[files]") {
  test::TempDir dir;
  REQUIRE(fsync_directory(dir.path()));
  auto missing = fsync_directory(dir / "missing");
  REQUIRE_FALSE(missing);
  CHECK(contains(missing.error().message, "cannot open directory"));
  CHECK(contains(missing.error().message, (dir / "missing").string()));
}

TEST_CASE("read_file reads bytes exactly and names a file it cannot read", "[files]") {
  test::TempDir dir;
  std::string content("line\r\nwith\0nul\n", 15);
  test::write_file(dir / "data", content);
  auto read = read_file(dir / "data");
  REQUIRE(read);
  CHECK(*read == content);
  auto missing = read_file(dir / "missing");
  REQUIRE_FALSE(missing);
  CHECK(contains(missing.error().message, "cannot read"));
  CHECK(contains(missing.error().message, (dir / "missing").string()));
}
