#include <chrono>
#include <filesystem>
#include <fnmatch.h>
#include <set>

#include <catch2/catch.hpp>

#include "compiler/slugignore.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
namespace fs = std::filesystem;

namespace {

SlugIgnore must_parse(std::string_view text) {
  auto ignore = SlugIgnore::parse(text);
  REQUIRE(ignore);
  return *ignore;
}

std::string parse_error(std::string_view text) {
  auto ignore = SlugIgnore::parse(text);
  REQUIRE_FALSE(ignore);
  return ignore.error().message;
}

// Every entry under `root`, relative and '/'-separated, directories with a trailing '/'.
std::set<std::string> tree(const fs::path& root) {
  std::set<std::string> entries;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    std::string relative = entry.path().lexically_relative(root).generic_string();
    entries.insert(entry.is_directory() && !entry.is_symlink() ? relative + "/" : relative);
  }
  return entries;
}

} // namespace

TEST_CASE("an empty .slugignore matches nothing", "[slugignore]") {
  auto ignore = must_parse("");
  CHECK(ignore.empty());
  CHECK_FALSE(ignore.matches("anything", false));
  auto comments = must_parse("# only comments\n\n   \n");
  CHECK(comments.empty());
}

TEST_CASE("a plain name matches a file or directory of that name at any depth", "[slugignore]") {
  auto ignore = must_parse("secret.txt\n");
  CHECK(ignore.matches("secret.txt", false));
  CHECK(ignore.matches("config/secret.txt", false));
  CHECK(ignore.matches("a/b/c/secret.txt", true));
  CHECK_FALSE(ignore.matches("secret.txt.bak", false));
  CHECK_FALSE(ignore.matches("my-secret.txt", false));
  CHECK_FALSE(ignore.matches("secret.txt/inner", false)); // the directory matches, not its files
}

TEST_CASE("a leading slash anchors a pattern at the app's root", "[slugignore]") {
  auto ignore = must_parse("/tmp\n");
  CHECK(ignore.matches("tmp", true));
  CHECK(ignore.matches("tmp", false));
  CHECK_FALSE(ignore.matches("app/tmp", true));
  CHECK_FALSE(ignore.matches("tmpfile", false));
}

TEST_CASE("a slash in the middle anchors a pattern at the app's root", "[slugignore]") {
  auto ignore = must_parse("docs/*.md\n");
  CHECK(ignore.matches("docs/readme.md", false));
  CHECK_FALSE(ignore.matches("src/docs/readme.md", false));
  CHECK_FALSE(ignore.matches("docs/sub/readme.md", false)); // '*' does not cross '/'
  CHECK_FALSE(ignore.matches("docs", true));
}

TEST_CASE("wildcards match within one path segment", "[slugignore]") {
  auto ignore = must_parse("*.log\ncache-?\nbuild[0-9]\n[!a]x\n");
  CHECK(ignore.matches("server.log", false));
  CHECK(ignore.matches("logs/old/server.log", false));
  CHECK(ignore.matches(".log", false));
  CHECK(ignore.matches("cache-1", true));
  CHECK_FALSE(ignore.matches("cache-12", true));
  CHECK(ignore.matches("build7", true));
  CHECK_FALSE(ignore.matches("buildx", true));
  CHECK(ignore.matches("bx", false));
  CHECK_FALSE(ignore.matches("ax", false));
}

TEST_CASE("a trailing slash matches directories only", "[slugignore]") {
  auto ignore = must_parse("node_modules/\n");
  CHECK(ignore.matches("node_modules", true));
  CHECK(ignore.matches("packages/a/node_modules", true)); // still unanchored
  CHECK_FALSE(ignore.matches("node_modules", false));
  auto anchored = must_parse("/build/\n");
  CHECK(anchored.matches("build", true));
  CHECK_FALSE(anchored.matches("build", false));
  CHECK_FALSE(anchored.matches("src/build", true));
}

TEST_CASE("a leading '**/' matches at any depth, the root included", "[slugignore]") {
  auto ignore = must_parse("**/fixtures\n");
  CHECK(ignore.matches("fixtures", true));
  CHECK(ignore.matches("test/fixtures", true));
  CHECK(ignore.matches("a/b/c/fixtures", false));
  CHECK_FALSE(ignore.matches("fixtures/x", false));
  auto nested = must_parse("**/test/*.snap\n");
  CHECK(nested.matches("test/a.snap", false));
  CHECK(nested.matches("pkg/test/a.snap", false));
  CHECK_FALSE(nested.matches("pkg/test/deep/a.snap", false));
}

TEST_CASE("a trailing '/**' matches everything inside but not the directory itself",
          "[slugignore]") {
  auto ignore = must_parse("vendor/**\n");
  CHECK(ignore.matches("vendor/a", false));
  CHECK(ignore.matches("vendor/a/b/c", true));
  CHECK_FALSE(ignore.matches("vendor", true));
  CHECK_FALSE(ignore.matches("lib/vendor/a", false));
}

TEST_CASE("an inner '/**/' matches zero or more directories", "[slugignore]") {
  auto ignore = must_parse("a/**/b\n");
  CHECK(ignore.matches("a/b", false));
  CHECK(ignore.matches("a/x/b", false));
  CHECK(ignore.matches("a/x/y/b", true));
  CHECK_FALSE(ignore.matches("a/x/c", false));
  CHECK_FALSE(ignore.matches("z/a/b", false));
  CHECK_FALSE(ignore.matches("a/b/c", false));
}

TEST_CASE("a backslash escapes a special character", "[slugignore]") {
  auto ignore = must_parse("\\#notes\n\\!important\nliteral\\*\nq\\?\n\\[x]\n");
  CHECK(ignore.matches("#notes", false));
  CHECK(ignore.matches("!important", false));
  CHECK(ignore.matches("literal*", false));
  CHECK_FALSE(ignore.matches("literally", false));
  CHECK(ignore.matches("q?", false));
  CHECK_FALSE(ignore.matches("qa", false));
  CHECK(ignore.matches("[x]", false));
  CHECK_FALSE(ignore.matches("x", false));
}

TEST_CASE("trailing spaces are dropped unless escaped", "[slugignore]") {
  auto ignore = must_parse("notes.txt   \nspace\\ \n");
  CHECK(ignore.matches("notes.txt", false));
  CHECK(ignore.matches("space ", false));
  CHECK_FALSE(ignore.matches("space", false));
}

TEST_CASE("comments, blank lines and CRLF endings are accepted", "[slugignore]") {
  auto ignore = must_parse("# docs\r\n\r\n*.md\r\n/tmp/\r\n");
  CHECK(ignore.matches("README.md", false));
  CHECK(ignore.matches("tmp", true));
  CHECK_FALSE(ignore.matches("#", false));
}

TEST_CASE("an empty path never matches", "[slugignore]") {
  auto ignore = must_parse("**\n*\n");
  CHECK_FALSE(ignore.matches("", true));
  CHECK_FALSE(ignore.matches("/", true));
  CHECK(ignore.matches("x", false));
}

TEST_CASE("negation is rejected with the line number", "[slugignore]") {
  auto message = parse_error("*.log\n!keep.log\n");
  CHECK(contains(message, ".slugignore line 2"));
  CHECK(contains(message, "negation is not supported"));
  CHECK(contains(message, "'!keep.log'"));
}

TEST_CASE("an unterminated bracket expression is rejected with the line and the pattern",
          "[slugignore]") {
  auto message = parse_error("# c\nfile[abc\n");
  CHECK(contains(message, ".slugignore line 2"));
  CHECK(contains(message, "unterminated '['"));
  CHECK(contains(message, "'file[abc'"));
  CHECK(contains(parse_error("dir/[!\n"), "unterminated '['"));
  CHECK(contains(parse_error("[]\n"), "unterminated '['")); // ']' first is literal
  // A closed class, one starting with ']' and an escaped '[' are fine.
  CHECK(must_parse("[]x]\n").matches("]", false));
  CHECK(must_parse("a\\[b\n").matches("a[b", false));
}

TEST_CASE("'..' is rejected because it names nothing inside the app", "[slugignore]") {
  auto message = parse_error("ok\n../secrets\n");
  CHECK(contains(message, ".slugignore line 2"));
  CHECK(contains(message, "'..' cannot name anything inside the app"));
  CHECK(contains(message, "'../secrets'"));
  CHECK(contains(parse_error("a/../b\n"), "'..'"));
  CHECK(contains(parse_error("..\n"), "'..'"));
  CHECK(must_parse("...\n").matches("...", false)); // only '..' itself
}

TEST_CASE("a trailing backslash is rejected", "[slugignore]") {
  auto message = parse_error("file\\\n");
  CHECK(contains(message, ".slugignore line 1"));
  CHECK(contains(message, "trailing '\\' escapes nothing"));
}

TEST_CASE("a pattern of slashes only is rejected with the line number", "[slugignore]") {
  CHECK(contains(parse_error("a\n/\n"), ".slugignore line 2"));
  CHECK(contains(parse_error("//\n"), "names no file"));
}

TEST_CASE("applying deletes matched files and whole matched directories", "[slugignore]") {
  test::TempDir dir;
  const fs::path app = dir.path();
  test::write_file(app / "app.js", "");
  test::write_file(app / "debug.log", "");
  test::write_file(app / "lib/util.js", "");
  test::write_file(app / "lib/old.log", "");
  test::write_file(app / "test/unit/a_test.js", "");
  test::write_file(app / "test/unit/deep/b_test.js", "");
  test::write_file(app / "docs/readme.md", "");
  test::write_file(app / "src/docs/keep.md", "");
  test::write_file(app / "tmp", "a file named tmp is not a directory");
  test::write_file(app / "lib/tmp/cache.bin", "");
  auto ignore = must_parse("*.log\n/test\ndocs/*.md\ntmp/\n");
  auto removed = ignore.apply(app);
  REQUIRE(removed);
  CHECK(*removed == 5); // debug.log, lib/old.log, test/, docs/readme.md, lib/tmp/
  CHECK(tree(app) == std::set<std::string>{"app.js", "lib/", "lib/util.js", "docs/", "src/",
                                           "src/docs/", "src/docs/keep.md", "tmp"});
}

TEST_CASE("applying '**' forms removes what they name and nothing else", "[slugignore]") {
  test::TempDir dir;
  const fs::path app = dir.path();
  test::write_file(app / "vendor/a/b.c", "");
  test::write_file(app / "vendor/top.h", "");
  test::write_file(app / "snap/x.snap", "");
  test::write_file(app / "pkg/snap/y.snap", "");
  test::write_file(app / "pkg/snap/y.txt", "");
  test::write_file(app / "a/b", "");
  test::write_file(app / "a/x/y/b", "");
  test::write_file(app / "a/x/c", "");
  auto ignore = must_parse("vendor/**\n**/snap/*.snap\na/**/b\n");
  auto removed = ignore.apply(app);
  REQUIRE(removed);
  CHECK(*removed == 6);
  CHECK(tree(app) == std::set<std::string>{"vendor/", "snap/", "pkg/", "pkg/snap/",
                                           "pkg/snap/y.txt", "a/", "a/x/", "a/x/c", "a/x/y/"});
}

TEST_CASE("applying an empty .slugignore removes nothing", "[slugignore]") {
  test::TempDir dir;
  test::write_file(dir / "app.js", "");
  auto removed = must_parse("# nothing\n").apply(dir.path());
  REQUIRE(removed);
  CHECK(*removed == 0);
  CHECK(fs::exists(dir / "app.js"));
}

TEST_CASE("applying removes a symlink without following it", "[slugignore]") {
  test::TempDir dir;
  const fs::path app = dir / "app";
  const fs::path outside = dir / "outside";
  test::write_file(outside / "precious.txt", "keep me");
  test::write_file(app / "app.js", "");
  fs::create_directory_symlink(outside, app / "linked");
  auto removed = must_parse("linked/\nlinked\n").apply(app);
  REQUIRE(removed);
  CHECK(*removed == 1);
  CHECK_FALSE(fs::exists(fs::symlink_status(app / "linked")));
  CHECK(test::read_text(outside / "precious.txt") == "keep me");
}

TEST_CASE("a symlink to a directory counts as a file for a trailing-slash pattern",
          "[slugignore]") {
  test::TempDir dir;
  const fs::path app = dir / "app";
  test::write_file(dir / "outside/precious.txt", "keep me");
  fs::create_directories(app);
  fs::create_directory_symlink(dir / "outside", app / "cache");
  auto removed = must_parse("cache/\n").apply(app);
  REQUIRE(removed);
  CHECK(*removed == 0);
  CHECK(fs::is_symlink(app / "cache"));
  CHECK(fs::exists(dir / "outside/precious.txt"));
}

TEST_CASE("applying copes with a dangling symlink in the app", "[slugignore]") {
  test::TempDir dir;
  test::write_file(dir / "app.js", "");
  test::write_file(dir / "debug.log", "");
  fs::create_symlink("does-not-exist", dir / "dangling");
  fs::create_symlink("also-missing", dir / "dangling.log");
  auto removed = must_parse("*.log\n").apply(dir.path());
  REQUIRE(removed);
  CHECK(*removed == 2);
  CHECK(tree(dir.path()) == std::set<std::string>{"app.js", "dangling"});
}

TEST_CASE("applying to a missing directory is an error that names it", "[slugignore]") {
  test::TempDir dir;
  auto removed = must_parse("*.log\n").apply(dir / "missing");
  REQUIRE_FALSE(removed);
  CHECK(contains(removed.error().message, (dir / "missing").string()));
}

TEST_CASE("single-segment globs match as fnmatch(3) does", "[slugignore]") {
  // fnmatch is the reference; slipway's own matcher must agree with it, in linear time.
  const std::vector<std::string> patterns = {"*",      "*.log",  "a?c",    "[abc]x",  "[!a]x",
                                             "[^a]x",  "[a-c]*", "\\*",    "*a*b*c*", "[]]x",
                                             "[a\\]]", "x[!]]",  "**.tmp", "a*",      "*z"};
  const std::vector<std::string> names = {"",    "a",      "abc", "ax", "bx", "]x",    "*", "x.log",
                                          "aXc", "aabbcc", "a]",  "x]", "xz", "c.tmp", "zz"};
  for (const auto& pattern : patterns) {
    auto ignore = must_parse(pattern);
    for (const auto& name : names) {
      if (name.empty()) {
        continue;
      }
      INFO(pattern << " against " << name);
      CHECK(ignore.matches(name, false) == (fnmatch(pattern.c_str(), name.c_str(), 0) == 0));
    }
  }
}

TEST_CASE("patterns made to backtrack are matched in linear time", "[slugignore]") {
  std::string pattern;
  for (int i = 0; i < 12; ++i) {
    pattern += "**/a*a*a*a*a*/";
  }
  auto ignore = must_parse(pattern + "b\n" + std::string(200, '*') + "b\n");
  std::string path;
  for (int i = 0; i < 40; ++i) {
    path += std::string(40, 'a') + "/";
  }
  auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(ignore.matches(path + std::string(200, 'a'), false));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
}
