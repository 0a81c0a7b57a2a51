#include <catch2/catch.hpp>

#include "common/random.hpp"
#include "compiler/app_json.hpp"
#include "runtime/app_name.hpp"
#include "runtime/apps.hpp"
#include "runtime/review_apps.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using test::TempDir;
using test::write_file;

namespace {

auto none_taken = [](const std::string&) { return false; };

struct Root {
  TempDir dir;
  Layout layout{dir.path()};
  Root() {
    std::filesystem::create_directories(layout.apps_dir());
    write_file(layout.config_file(), "");
  }
};

} // namespace

TEST_CASE("a review app is named PIPELINE-BRANCH, lowercased, with what cannot be in a name "
          "made a dash",
          "[review]") {
  CHECK(review_app_name("shop", "feature-x", none_taken).value() == "shop-feature-x");
  CHECK(review_app_name("shop", "Feature/Login_Page", none_taken).value() ==
        "shop-feature-login-page");
  CHECK(review_app_name("shop", "fix--double..dots-", none_taken).value() ==
        "shop-fix-double-dots");
  CHECK(review_app_name("shop", "日本", none_taken).value() == "shop");
}

TEST_CASE("a long or taken review app name is cut and given the branch's hash, and stays valid",
          "[review]") {
  std::string branch = "feature/" + std::string(80, 'a');
  auto name = review_app_name("shop", branch, none_taken).value();
  CHECK(name.size() <= k_max_app_name);
  CHECK(validate_app_name(name));
  CHECK(name.starts_with("shop-feature-aaa"));
  // Two long branches that share their first 55 characters get different names.
  auto other = review_app_name("shop", branch + "b", none_taken).value();
  CHECK(other != name);
  // Taken by another app: the hash suffix.
  auto taken = review_app_name("shop", "main-page", [](const std::string& candidate) {
                 return candidate == "shop-main-page";
               }).value();
  CHECK(taken.starts_with("shop-main-page-"));
  CHECK(taken.size() == std::string("shop-main-page-").size() + 7);
  // Every candidate taken: an error naming the branch.
  auto none = review_app_name("shop", "x", [](const std::string&) { return true; });
  REQUIRE_FALSE(none);
  CHECK(contains(none.error().message, "no name is left for the review app of branch 'x'"));
}

TEST_CASE("a review app's record round-trips through app.toml and a damaged one is named",
          "[review]") {
  Root root;
  REQUIRE(create_app(root.layout, "shop-x"));
  auto info = app_info(root.layout, "shop-x").value();
  info.review = ReviewOrigin{.branch = "feature/x",
                             .parent = "shop-dev",
                             .commit = std::string(40, 'a'),
                             .pushed_at = std::chrono::time_point_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now()),
                             .status = "created",
                             .last_build = "succeeded",
                             .message = ""};
  REQUIRE(save_app_info(root.layout, info));
  auto loaded = app_info(root.layout, "shop-x").value();
  REQUIRE(loaded.review);
  CHECK(loaded.review->branch == "feature/x");
  CHECK(loaded.review->parent == "shop-dev");
  CHECK(loaded.review->pushed_at == info.review->pushed_at);
  CHECK(loaded.review->status == "created");

  const std::string base = "id = \"5f0c6f2e-8d3b-4a57-9a43-0e6f7c1d2b3a\"\n"
                           "created_at = 2026-01-01T00:00:00Z\n";
  for (const std::string review : {
           "review = 1\n",
           "[review]\nbranch = 'a..b'\nparent = 'shop'\ncommit = ''\n"
           "pushed_at = 2026-01-01T00:00:00Z\nstatus = 'created'\nlast_build = ''\nmessage = ''\n",
           "[review]\nbranch = 'x'\nparent = '../etc'\ncommit = ''\n"
           "pushed_at = 2026-01-01T00:00:00Z\nstatus = 'created'\nlast_build = ''\nmessage = ''\n",
           "[review]\nbranch = 'x'\nparent = 'shop'\ncommit = 'HEAD'\n"
           "pushed_at = 2026-01-01T00:00:00Z\nstatus = 'created'\nlast_build = ''\nmessage = ''\n",
           "[review]\nbranch = 'x'\nparent = 'shop'\ncommit = ''\n"
           "pushed_at = 2026-01-01T00:00:00Z\nstatus = 'gone'\nlast_build = ''\nmessage = ''\n",
           "[review]\nbranch = 'x'\nparent = 'shop'\ncommit = ''\n"
           "pushed_at = 2026-01-01T00:00:00Z\nstatus = 'created'\nlast_build = ''\n",
       }) {
    INFO(review);
    write_file(root.layout.app_file("shop-x"), base + review);
    auto damaged = app_info(root.layout, "shop-x");
    REQUIRE_FALSE(damaged);
    CHECK(contains(damaged.error().message, "[review] must hold"));
    CHECK(contains(damaged.error().message, root.layout.app_file("shop-x").string()));
  }
}

TEST_CASE("the review config round-trips 0600 and a damaged one is named", "[review]") {
  Root root;
  const std::string id = random_uuid().value();
  CHECK(load_review_config(root.layout, id).value().empty());
  REQUIRE(save_review_config(root.layout, id, {{"API_KEY", "k'\"\n"}, {"DB", "review"}}));
  CHECK(load_review_config(root.layout, id).value() ==
        ConfigVars{{"API_KEY", "k'\"\n"}, {"DB", "review"}});
  auto mode = std::filesystem::status(root.layout.review_config_file(id)).permissions();
  CHECK((mode & std::filesystem::perms::group_all) == std::filesystem::perms::none);
  CHECK((mode & std::filesystem::perms::others_all) == std::filesystem::perms::none);
  for (const std::string text : {"A = 1\n", "'1BAD' = 'x'\n", "[x]\ny = 'z'\n", "A = "}) {
    INFO(text);
    write_file(root.layout.review_config_file(id), text);
    auto damaged = load_review_config(root.layout, id);
    REQUIRE_FALSE(damaged);
    CHECK(contains(damaged.error().message, root.layout.review_config_file(id).string()));
  }
  REQUIRE(save_review_config(root.layout, id, {}));
  CHECK_FALSE(std::filesystem::exists(root.layout.review_config_file(id)));
}

TEST_CASE("a review app sees app.json with environments.review over the top level", "[review]") {
  auto manifest = parse_app_json(R"({
    "env": {"GREETING": {"value": "prod"}, "KEEP": {"value": "k"}},
    "formation": {"web": {"quantity": 3}},
    "scripts": {"postdeploy": "echo top", "pr-predestroy": "echo top-predestroy"},
    "environments": {"review": {
      "env": {"GREETING": {"value": "review"}, "TOKEN": {"generator": "secret"}},
      "scripts": {"postdeploy": "echo review"}
    }}})");
  REQUIRE(manifest);
  auto review = review_app_manifest(*manifest);
  REQUIRE(review.env.size() == 3);
  auto value_of = [&](const std::string& name) {
    auto found = std::ranges::find(review.env, name, &EnvVarSpec::name);
    REQUIRE(found != review.env.end());
    return *found;
  };
  CHECK(value_of("GREETING").value == "review");
  CHECK(value_of("KEEP").value == "k");
  CHECK(value_of("TOKEN").secret);
  CHECK(review.formation.empty()); // one web process, not production's three
  CHECK(review.scripts.postdeploy == "echo review");
  CHECK(review.scripts.pr_predestroy == "echo top-predestroy");
}
