#include <catch2/catch.hpp>

#include "hooks/ref_update.hpp"
#include "runtime/apps.hpp"
#include "runtime/repo.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;

namespace {

const std::string k_zero(40, '0');
const std::string k_a(40, 'a');
const std::string k_b = "0123456789abcdef0123456789abcdef01234567";

} // namespace

TEST_CASE("pre-receive input is parsed into one update per line", "[ref_update]") {
  auto updates = parse_ref_updates(k_a + " " + k_b + " refs/heads/main\n" + k_zero + " " + k_b +
                                   " refs/tags/v1\n" + k_b + " " + k_zero + " refs/heads/old\n");
  REQUIRE(updates);
  REQUIRE(updates->size() == 3);
  CHECK((*updates)[0].old_id == k_a);
  CHECK((*updates)[0].new_id == k_b);
  CHECK((*updates)[0].ref == "refs/heads/main");
  CHECK_FALSE((*updates)[0].is_creation());
  CHECK((*updates)[1].is_creation());
  CHECK((*updates)[2].is_deletion());
  CHECK(parse_ref_updates("")->empty());
  // SHA-256 repositories have 64-digit ids.
  CHECK(parse_ref_updates(std::string(64, 'c') + " " + std::string(64, 'd') + " refs/heads/main"));
}

TEST_CASE("malformed pre-receive input is refused with the line it is on", "[ref_update]") {
  struct Case {
    std::string input;
    std::string message;
  };
  std::vector<Case> cases = {
      {"garbage", "line 1: expected 'OLD NEW REF', got 'garbage'"},
      {k_a + " " + k_b, "line 1: expected 'OLD NEW REF'"},
      {k_a + " " + k_b + " refs/heads/main\nnope", "line 2:"},
      {"xyz " + k_b + " refs/heads/main", "line 1: malformed object ids"},
      {k_a + " " + k_b.substr(1) + " refs/heads/main", "malformed object ids"},
      {k_a + " " + std::string(40, 'A') + " refs/heads/main", "malformed object ids"},
      {k_a + " " + std::string(64, 'b') + " refs/heads/main", "malformed object ids"},
      {k_a + " " + k_b + " main", "malformed ref name 'main'"},
      {k_a + " " + k_b + " refs/heads/a b", "malformed ref name"},
      {k_a + " " + k_b + " refs/heads/x\r", "malformed ref name"},
  };
  for (const auto& c : cases) {
    INFO(c.input);
    auto updates = parse_ref_updates(c.input);
    REQUIRE_FALSE(updates);
    CHECK(test::contains(updates.error().message, c.message));
  }
}

TEST_CASE("refs are described the way a pusher names them", "[ref_update]") {
  CHECK(describe_ref("refs/heads/main") == "main");
  CHECK(describe_ref("refs/heads/feature/x") == "feature/x");
  CHECK(describe_ref("refs/tags/v1.0") == "tag v1.0");
  CHECK(describe_ref("refs/notes/commits") == "refs/notes/commits");
}

TEST_CASE("a hook finds its app only in an app repository under the root", "[ref_update]") {
  test::TempDir dir;
  Layout layout(dir.path());
  REQUIRE(init_root(layout, {}));
  REQUIRE(create_app(layout, "demo"));
  REQUIRE(create_repo(layout, "demo", "/usr/local/bin/slipway"));
  CHECK(app_of_repo(layout, repo_dir(layout, "demo")).value() == "demo");
  auto hook = test::read_text(repo_dir(layout, "demo") / "hooks/pre-receive");
  CHECK(test::contains(hook, "exec '/usr/local/bin/slipway' --root '" + dir.path().string() +
                                 "' hook pre-receive"));

  std::filesystem::create_directories(dir / "elsewhere/demo.git");
  CHECK_FALSE(app_of_repo(layout, dir / "elsewhere/demo.git"));
  std::filesystem::create_directories(layout.repos_dir() / "ghost.git");
  CHECK(test::contains(app_of_repo(layout, layout.repos_dir() / "ghost.git").error().message,
                       "app 'ghost' does not exist"));
  std::filesystem::create_directories(layout.repos_dir() / "Bad_Name.git");
  CHECK(test::contains(app_of_repo(layout, layout.repos_dir() / "Bad_Name.git").error().message,
                       "invalid app name"));
  REQUIRE(remove_repo(layout, "demo"));
  CHECK_FALSE(std::filesystem::exists(repo_dir(layout, "demo")));
}
