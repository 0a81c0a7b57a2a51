#include <sstream>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>

#include "common/hash.hpp"
#include "common/slug.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
namespace fs = std::filesystem;

namespace {

// A tar.gz written entry by entry, for slugs slipway would never make itself.
struct EntrySpec {
  std::string name;
  std::string content;
  std::string symlink;  // non-empty: a symlink to this target
  std::string hardlink; // non-empty: a hard link to this entry
};

void write_raw_tar(const fs::path& path, const std::vector<EntrySpec>& entries) {
  archive* out = archive_write_new();
  archive_write_set_format_pax_restricted(out);
  archive_write_add_filter_gzip(out);
  REQUIRE(archive_write_open_filename(out, path.c_str()) == ARCHIVE_OK);
  for (const auto& spec : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_copy_pathname(entry, spec.name.c_str());
    archive_entry_set_perm(entry, 0644);
    if (!spec.symlink.empty()) {
      archive_entry_set_filetype(entry, AE_IFLNK);
      archive_entry_copy_symlink(entry, spec.symlink.c_str());
    } else if (!spec.hardlink.empty()) {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_copy_hardlink(entry, spec.hardlink.c_str());
    } else if (spec.name.ends_with("/")) {
      archive_entry_set_filetype(entry, AE_IFDIR);
      archive_entry_set_perm(entry, 0755);
    } else {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_size(entry, static_cast<la_int64_t>(spec.content.size()));
    }
    archive_write_header(out, entry);
    if (!spec.content.empty()) {
      archive_write_data(out, spec.content.data(), spec.content.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(out);
  archive_write_free(out);
}

std::vector<std::string> tar_listing(const fs::path& slug) {
  auto status = test::run_program({"tar", "-tf", slug.string()});
  REQUIRE(status.ok());
  std::vector<std::string> names;
  std::istringstream lines(status.output);
  for (std::string line; std::getline(lines, line);) {
    names.push_back(line);
  }
  return names;
}

} // namespace

TEST_CASE("a packed slug unpacks to the same tree, modes and symlinks kept", "[slug]") {
  test::TempDir dir;
  auto app = dir / "app";
  test::write_file(app / "Procfile", "web: ./bin/web\n");
  test::write_file(app / "bin/web", "#!/bin/sh\necho hi\n", 0755);
  test::write_file(app / "new\nline", "odd name\n");
  test::write_file(app / "secret", "s\n", 0600);
  fs::create_symlink("/etc/passwd", app / "passwd-link");
  fs::create_symlink("bin/web", app / "relative-link");
  fs::create_directories(app / "empty-dir");

  for (auto compression : {SlugCompression::zstd, SlugCompression::gzip}) {
    auto slug_path = dir / (compression == SlugCompression::zstd ? "slug.tar.zst" : "slug.tgz");
    auto slug = pack_slug(app, slug_path, {.compression = compression});
    REQUIRE(slug);
    CHECK(slug->sha256.size() == 64);
    CHECK(slug->size == fs::file_size(slug_path));

    auto out = dir / ("out-" + slug_path.filename().string());
    REQUIRE(unpack_slug(slug_path, out));
    CHECK(test::read_text(out / "new\nline") == "odd name\n");
    CHECK(fs::read_symlink(out / "passwd-link") == "/etc/passwd");
    CHECK(fs::read_symlink(out / "relative-link") == "bin/web");
    CHECK(fs::is_directory(out / "empty-dir"));
    CHECK((fs::status(out / "bin/web").permissions() & fs::perms::owner_exec) != fs::perms::none);
    CHECK((fs::status(out / "secret").permissions() & fs::perms::group_read) == fs::perms::none);
  }
}

TEST_CASE("slug entries carry the ./app/ prefix in sorted order", "[slug]") {
  test::TempDir dir;
  auto app = dir / "app";
  for (const char* name : {"b", "a/z", "a/b", "c.txt", "a.b"}) {
    test::write_file(app / name, name);
  }
  auto slug = pack_slug(app, dir / "slug.tar.zst", {});
  REQUIRE(slug);
  auto names = tar_listing(dir / "slug.tar.zst");
  CHECK(names == std::vector<std::string>{"./app/", "./app/a/", "./app/a.b", "./app/a/b",
                                          "./app/a/z", "./app/b", "./app/c.txt"});
}

TEST_CASE("the same tree packs to the same bytes", "[slug]") {
  test::TempDir dir;
  test::write_file(dir / "app/x", std::string(100000, 'x'));
  auto first = pack_slug(dir / "app", dir / "one.tar.zst", {});
  auto second = pack_slug(dir / "app", dir / "two.tar.zst", {});
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->sha256 == second->sha256);
}

TEST_CASE("a slug over max_slug_size is refused and leaves no file behind", "[slug]") {
  test::TempDir dir;
  // Incompressible content, so the compressed size passes the limit.
  auto random = test::run_program({"head", "-c", "3000000", "/dev/urandom"});
  test::write_file(dir / "app/blob", random.output);
  auto slug = pack_slug(dir / "app", dir / "slug.tar.zst", {.max_size = 1024 * 1024});
  REQUIRE_FALSE(slug);
  CHECK(slug.error().message == "slug is larger than max_slug_size (1.0MB)");
  CHECK_FALSE(fs::exists(dir / "slug.tar.zst"));
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("special files cannot be packed", "[slug]") {
  test::TempDir dir;
  fs::create_directories(dir / "app");
  REQUIRE(mkfifo((dir / "app/fifo").c_str(), 0644) == 0);
  auto slug = pack_slug(dir / "app", dir / "slug.tar.zst", {});
  REQUIRE_FALSE(slug);
  CHECK(test::contains(slug.error().message, "'fifo'"));
}

TEST_CASE("unpacking refuses entries that would escape the destination", "[slug]") {
  test::TempDir dir;
  auto victim = dir / "victim";
  fs::create_directories(victim);
  struct Case {
    std::string what;
    std::vector<EntrySpec> entries;
    std::string message;
  };
  std::vector<Case> cases = {
      {"absolute path", {{"/tmp/evil", "x"}}, "outside ./app/"},
      {"absolute path under app", {{"./app//etc/evil", "x"}}, "absolute path"},
      {"dot-dot", {{"./app/../evil", "x"}}, "contains '..'"},
      {"deep dot-dot", {{"./app/a/../../evil", "x"}}, "contains '..'"},
      {"outside app", {{"./etc/passwd", "x"}}, "outside ./app/"},
      {"hard link out", {{"./app/h", "", "", "/etc/passwd"}}, "outside ./app/"},
      {"write through symlink",
       {{"./app/", ""}, {"./app/link", "", victim.string()}, {"./app/link/evil", "x"}},
       "cannot unpack"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      auto slug = dir / "bad.tar.gz";
      write_raw_tar(slug, c.entries);
      auto out = dir / "out";
      auto unpacked = unpack_slug(slug, out);
      REQUIRE_FALSE(unpacked);
      CHECK(test::contains(unpacked.error().message, c.message));
      CHECK(fs::is_empty(victim));
      CHECK_FALSE(fs::exists(dir.path().parent_path() / "evil"));
    }
  }
}

TEST_CASE("a file that is not a slug is a clear error", "[slug]") {
  test::TempDir dir;
  test::write_file(dir / "junk.tar.zst", "this is not a tarball at all");
  auto unpacked = unpack_slug(dir / "junk.tar.zst", dir / "out");
  REQUIRE_FALSE(unpacked);
  CHECK(test::contains(unpacked.error().message, "cannot read slug"));
  CHECK_FALSE(unpack_slug(dir / "missing.tar.zst", dir / "out2"));
}

TEST_CASE("slugs are named by their SHA-256 and compression", "[slug]") {
  CHECK(slug_file_name("ab12", SlugCompression::zstd) == "ab12.tar.zst");
  CHECK(slug_file_name("ab12", SlugCompression::gzip) == "ab12.tar.gz");
}

TEST_CASE("packing into a store names the slug by its SHA-256", "[slug]") {
  test::TempDir dir;
  test::write_file(dir / "app/Procfile", "web: true\n");
  fs::create_directories(dir / "store");
  auto slug = pack_slug_into_store(dir / "app", dir / "store", {});
  REQUIRE(slug);
  CHECK(slug->path == dir / "store" / (slug->sha256 + ".tar.zst"));
  CHECK(sha256_file(slug->path).value() == slug->sha256);
  // Packing the same tree again stores nothing new and leaves nothing pending.
  auto again = pack_slug_into_store(dir / "app", dir / "store", {});
  REQUIRE(again);
  CHECK(again->path == slug->path);
  CHECK(std::distance(fs::directory_iterator(dir / "store"), fs::directory_iterator()) == 1);
}

TEST_CASE("an unpack shares the files an earlier tree has byte for byte, and only those",
          "[slug]") {
  test::TempDir dir;
  auto app = dir / "app";
  test::write_file(app / "same.txt", "unchanged\n");
  test::write_file(app / "lib/deep/same.js", std::string(3 << 20, 'x')); // several blocks
  test::write_file(app / "edited.txt", "before\n");
  test::write_file(app / "twin.txt", "AAAA\n"); // changes, keeping its size and mtime
  test::write_file(app / "mode.sh", "#!/bin/sh\n", 0644);
  test::write_file(app / "empty", "");
  REQUIRE(pack_slug(app, dir / "one.tar.zst", {}));
  REQUIRE(unpack_slug(dir / "one.tar.zst", dir / "one"));

  auto mtime = fs::last_write_time(app / "twin.txt");
  test::write_file(app / "edited.txt", "after, longer\n");
  test::write_file(app / "twin.txt", "BBBB\n");
  fs::last_write_time(app / "twin.txt", mtime);
  fs::permissions(app / "mode.sh", fs::perms::owner_exec, fs::perm_options::add);
  test::write_file(app / "added.txt", "new\n");
  // In the earlier tree, a symlink where the new slug has a file: never followed.
  fs::remove(dir / "one/lib/deep/same.js");
  fs::create_symlink("/etc/passwd", dir / "one/lib/deep/same.js");
  test::write_file(app / "lib/deep/same.js", std::string(3 << 20, 'x'));
  REQUIRE(pack_slug(app, dir / "two.tar.zst", {}));
  REQUIRE(unpack_slug(dir / "two.tar.zst", dir / "two", {}, dir / "one"));

  auto inode = [](const fs::path& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_ino;
  };
  CHECK(inode(dir / "two/same.txt") == inode(dir / "one/same.txt"));
  CHECK(inode(dir / "two/empty") == inode(dir / "one/empty"));
  CHECK(test::read_text(dir / "two/edited.txt") == "after, longer\n");
  CHECK(inode(dir / "two/edited.txt") != inode(dir / "one/edited.txt"));
  CHECK(test::read_text(dir / "two/twin.txt") == "BBBB\n");
  CHECK(test::read_text(dir / "one/twin.txt") == "AAAA\n"); // the earlier tree untouched
  CHECK((fs::status(dir / "two/mode.sh").permissions() & fs::perms::owner_exec) != fs::perms::none);
  CHECK((fs::status(dir / "one/mode.sh").permissions() & fs::perms::owner_exec) == fs::perms::none);
  CHECK(test::read_text(dir / "two/added.txt") == "new\n");
  CHECK_FALSE(fs::is_symlink(dir / "two/lib/deep/same.js"));
  CHECK(fs::file_size(dir / "two/lib/deep/same.js") == (3u << 20));
}
