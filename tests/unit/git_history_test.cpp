#include <cctype>

#include <catch2/catch.hpp>

#include "compiler/git_history.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;

namespace {

// Runs the git CLI with the environment a test fixes: no user or system config (a
// commit.gpgsign there would fail every commit) and the given variables set.
std::string run_git(const std::vector<std::string>& args,
                    const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{"env", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back("git");
  argv.insert(argv.end(), args.begin(), args.end());
  auto status = run_program(argv);
  INFO(status.output);
  REQUIRE(status.ok());
  return status.output;
}

// A commit in the work tree `work` by `name` at `when` (seconds since the epoch, as author
// and committer time); returns its id.
std::string commit(const fs::path& work, const std::string& message, const std::string& name,
                   long when) {
  std::string date = fmt::format("@{} +0000", when);
  std::string email = name + "@example.com";
  run_git({"-C", work.string(), "commit", "-q", "--allow-empty", "-m", message},
          {"GIT_AUTHOR_NAME=" + name, "GIT_AUTHOR_EMAIL=" + email, "GIT_AUTHOR_DATE=" + date,
           "GIT_COMMITTER_NAME=" + name, "GIT_COMMITTER_EMAIL=" + email,
           "GIT_COMMITTER_DATE=" + date});
  std::string id = run_git({"-C", work.string(), "rev-parse", "HEAD"});
  return id.substr(0, 40);
}

std::vector<std::string> ids(const std::vector<git::CommitSummary>& commits) {
  std::vector<std::string> out;
  for (const auto& c : commits) {
    out.push_back(c.id);
  }
  return out;
}

TimePoint at(long seconds) {
  return TimePoint(std::chrono::seconds(seconds));
}

// A work tree with four commits (c3 dated before c2, as a skewed clock would) and a bare
// clone of it, the app's repository.
struct History {
  TempDir dir;
  fs::path work = dir / "work";
  fs::path repo = dir / "demo.git";
  std::string c1, c2, c3, c4;

  History() {
    run_git({"init", "-q", "-b", "main", work.string()});
    c1 = commit(work, "First commit", "Ada", 1'700'000'000);
    c2 = commit(work, "Second commit", "Grace", 1'700'000'100);
    c3 = commit(work, "Third commit\n\nWith a body\nof two lines.\n", "Ada", 1'699'999'000);
    c4 = commit(work, "Fourth commit", "Linus", 1'700'000'300);
    run_git({"clone", "-q", "--bare", work.string(), repo.string()});
  }
};

} // namespace

TEST_CASE("the commits between two commits are listed newest first with author and subject",
          "[git_history]") {
  History h;
  auto commits = git::commits_between(h.repo, h.c4, h.c2, 0);
  REQUIRE(commits);
  REQUIRE(ids(*commits) == std::vector<std::string>{h.c4, h.c3});
  const auto& newest = (*commits)[0];
  CHECK(newest.author == "Linus");
  CHECK(newest.email == "Linus@example.com");
  CHECK(newest.time == at(1'700'000'300));
  CHECK(newest.subject == "Fourth commit");
  const auto& older = (*commits)[1];
  CHECK(older.author == "Ada");
  CHECK(older.email == "Ada@example.com");
  CHECK(older.time == at(1'699'999'000));
  CHECK(older.subject == "Third commit"); // the body is left out

  // Nothing between a commit and itself or an ancestor and its descendant.
  CHECK(git::commits_between(h.repo, h.c2, h.c2, 0)->empty());
  CHECK(git::commits_between(h.repo, h.c2, h.c4, 0)->empty());
}

TEST_CASE("a limit keeps the newest commits and no exclude lists the whole history",
          "[git_history]") {
  History h;
  // c3 is dated before c2, yet listed before it: a parent never comes before its child.
  auto all = git::commits_between(h.repo, h.c4, "", 0);
  REQUIRE(all);
  CHECK(ids(*all) == std::vector<std::string>{h.c4, h.c3, h.c2, h.c1});
  CHECK(all->back().subject == "First commit");
  CHECK(all->back().author == "Ada");

  auto two = git::commits_between(h.repo, h.c4, "", 2);
  REQUIRE(two);
  CHECK(ids(*two) == std::vector<std::string>{h.c4, h.c3});
  auto one = git::commits_between(h.repo, h.c4, h.c1, 1);
  REQUIRE(one);
  CHECK(ids(*one) == std::vector<std::string>{h.c4});
  // A limit above the count lists them all.
  CHECK(git::commits_between(h.repo, h.c4, h.c2, 10)->size() == 2);
}

TEST_CASE("a commit the repository does not have is an error that names it", "[git_history]") {
  History h;
  std::string unknown(40, 'a');
  for (const auto& [include, exclude] :
       {std::pair{unknown, h.c2}, std::pair{h.c4, unknown}, std::pair{unknown, std::string()}}) {
    auto commits = git::commits_between(h.repo, include, exclude, 0);
    REQUIRE_FALSE(commits);
    CHECK(commits.error().message ==
          fmt::format("commit {} is not in '{}'", unknown, h.repo.string()));
  }
  // The id of a tree is no commit either.
  std::string tree = run_git({"-C", h.work.string(), "rev-parse", "HEAD^{tree}"}).substr(0, 40);
  auto of_tree = git::commits_between(h.repo, tree, "", 0);
  REQUIRE_FALSE(of_tree);
  CHECK(contains(of_tree.error().message, "is not in"));

  CHECK(*git::has_commit(h.repo, h.c1));
  CHECK(*git::has_commit(h.repo, h.c4));
  CHECK_FALSE(*git::has_commit(h.repo, unknown));
  CHECK_FALSE(*git::has_commit(h.repo, tree));
  // No repository there: an error, not "no such commit".
  CHECK_FALSE(git::has_commit(h.dir / "missing.git", h.c1));
  CHECK_FALSE(git::commits_between(h.dir / "missing.git", h.c4, "", 0));
}

TEST_CASE("malformed commit ids are refused before the repository is read", "[git_history]") {
  History h;
  std::string upper = h.c4;
  for (auto& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  for (const std::string& bad :
       {std::string("zz"), std::string("../x"), std::string(), h.c4.substr(0, 39), h.c4 + "0",
        h.c4.substr(0, 39) + "g", upper, std::string("main"), std::string("HEAD"),
        std::string(h.c4.substr(0, 20) + "/" + h.c4.substr(21))}) {
    INFO(bad);
    auto as_include = git::commits_between(h.repo, bad, h.c1, 0);
    REQUIRE_FALSE(as_include);
    CHECK(as_include.error().message == fmt::format("'{}' is not a commit id", bad));
    if (!bad.empty()) { // an empty exclude means none
      auto as_exclude = git::commits_between(h.repo, h.c4, bad, 0);
      REQUIRE_FALSE(as_exclude);
      CHECK(as_exclude.error().message == fmt::format("'{}' is not a commit id", bad));
    }
    auto has = git::has_commit(h.repo, bad);
    REQUIRE_FALSE(has);
    CHECK(contains(has.error().message, "is not a commit id"));
  }
}

TEST_CASE("a commit only in another repository is read through its objects", "[git_history]") {
  History h;
  // B: another app's repository, a copy of A with two more commits pushed to B alone (the
  // app promoted from). A itself never gets them.
  fs::path other = h.dir / "other.git";
  run_git({"clone", "-q", "--bare", h.repo.string(), other.string()});
  std::string c5 = commit(h.work, "Fifth commit", "Grace", 1'700'000'400);
  std::string c6 = commit(h.work, "Sixth commit", "Ada", 1'700'000'500);
  run_git({"-C", h.work.string(), "push", "-q", other.string(), "main"});

  auto in_other = git::commits_between(other, c6, h.c4, 0);
  REQUIRE(in_other);
  CHECK(ids(*in_other) == std::vector<std::string>{c6, c5});

  auto through_extra = git::commits_between(h.repo, c6, h.c4, 0, other);
  REQUIRE(through_extra);
  CHECK(ids(*through_extra) == std::vector<std::string>{c6, c5});
  CHECK((*through_extra)[0].subject == "Sixth commit");
  CHECK((*through_extra)[1].author == "Grace");
  // Reachable across both: the history below c4 comes from A or B alike.
  CHECK(git::commits_between(h.repo, c6, "", 0, other)->size() == 6);

  auto without = git::commits_between(h.repo, c6, h.c4, 0);
  REQUIRE_FALSE(without);
  CHECK(contains(without.error().message, fmt::format("commit {} is not in", c6)));
  CHECK_FALSE(*git::has_commit(h.repo, c6));
  CHECK(*git::has_commit(other, c6));
  // The alternate lived in memory only: A's repository names none.
  CHECK_FALSE(fs::exists(h.repo / "objects/info/alternates"));

  // Missing from both: the message names both repositories.
  std::string unknown(40, 'b');
  auto neither = git::commits_between(h.repo, unknown, h.c4, 0, other);
  REQUIRE_FALSE(neither);
  CHECK(neither.error().message ==
        fmt::format("commit {} is not in '{}' or '{}'", unknown, h.repo.string(), other.string()));
  // An extra repository that is not there is said, not skipped.
  auto missing = git::commits_between(h.repo, h.c4, h.c2, 0, h.dir / "gone.git");
  REQUIRE_FALSE(missing);
  CHECK(contains(missing.error().message, "gone.git"));
}
