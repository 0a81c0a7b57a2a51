#include <catch2/catch.hpp>

#include "common/files.hpp"
#include "common/random.hpp"
#include "runtime/app_name.hpp"
#include "runtime/apps.hpp"
#include "runtime/pipelines.hpp"
#include "runtime/promotions.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace std::chrono_literals;
using test::contains;
using test::read_text;
using test::TempDir;
using test::write_file;

namespace {

// A root with apps/ and the apps named, created as `apps:create` does.
struct Root {
  TempDir dir;
  Layout layout{dir.path()};
  explicit Root(std::initializer_list<const char*> apps) {
    std::filesystem::create_directories(layout.apps_dir());
    write_file(layout.config_file(), "");
    for (const char* app : apps) {
      REQUIRE(create_app(layout, app));
    }
  }
  Pipeline pipeline(const std::string& name) {
    auto pipelines = load_pipelines(layout).value_or(std::vector<Pipeline>{});
    Pipeline made{.id = random_uuid().value(),
                  .name = name,
                  .created_at = std::chrono::system_clock::now(),
                  .updated_at = std::chrono::system_clock::now()};
    pipelines.push_back(made);
    REQUIRE(save_pipelines(layout, pipelines));
    return made;
  }
  void couple(const std::string& app, const Pipeline& pipeline, Stage stage,
              bool promotion_only = false) {
    auto info = app_info(layout, app);
    REQUIRE(info);
    info->coupling = PipelineCoupling{.id = random_uuid().value(),
                                      .pipeline = pipeline.id,
                                      .stage = stage,
                                      .created_at = std::chrono::system_clock::now(),
                                      .updated_at = std::chrono::system_clock::now()};
    info->promotion_only = promotion_only;
    REQUIRE(save_app_info(layout, *info));
  }
};

} // namespace

TEST_CASE("stages are Heroku's four, in the order code moves through them", "[pipelines]") {
  for (Stage stage : k_stages) {
    auto parsed = parse_stage(to_string(stage));
    REQUIRE(parsed);
    CHECK(*parsed == stage);
  }
  for (const char* bad : {"", "Staging", "prod", "qa", "staging ", "../x"}) {
    INFO(bad);
    auto parsed = parse_stage(bad);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().exit_code == 2);
    CHECK(contains(parsed.error().message, "(use review, development, staging or production)"));
  }
  CHECK(downstream_of(Stage::development) == Stage::staging);
  CHECK(downstream_of(Stage::staging) == Stage::production);
  CHECK_FALSE(downstream_of(Stage::production));
  CHECK_FALSE(downstream_of(Stage::review));
  CHECK(upstream_of(Stage::production) == Stage::staging);
  CHECK(upstream_of(Stage::staging) == Stage::development);
  CHECK_FALSE(upstream_of(Stage::development));
  CHECK_FALSE(upstream_of(Stage::review));
}

TEST_CASE("pipelines round-trip through pipelines.toml and are found by name or id",
          "[pipelines]") {
  Root root({});
  CHECK(load_pipelines(root.layout).value().empty());
  Pipeline shop = root.pipeline("shop");
  Pipeline blog = root.pipeline("blog");
  auto loaded = load_pipelines(root.layout);
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 2);
  CHECK((*loaded)[0].name == "blog"); // by name
  CHECK((*loaded)[1].id == shop.id);
  CHECK(find_pipeline(root.layout, "shop").value().id == shop.id);
  CHECK(find_pipeline(root.layout, blog.id).value().name == "blog");
  auto missing = find_pipeline(root.layout, "nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::not_found);

  // A stage that waits for CI is kept, in stage order.
  loaded->at(1).wait_for_ci = {Stage::production, Stage::staging};
  std::ranges::sort(loaded->at(1).wait_for_ci);
  REQUIRE(save_pipelines(root.layout, *loaded));
  CHECK(find_pipeline(root.layout, "shop").value().wait_for_ci ==
        std::vector<Stage>{Stage::staging, Stage::production});
  CHECK(find_pipeline(root.layout, "blog").value().wait_for_ci.empty());

  // Review app settings are kept as they were set.
  loaded->at(0).review_apps =
      ReviewAppsSettings{.autodeploy = true, .autodestroy = true, .stale_days = 5, .max = 3};
  REQUIRE(save_pipelines(root.layout, *loaded));
  CHECK(find_pipeline(root.layout, "blog").value().review_apps == loaded->at(0).review_apps);
  CHECK_FALSE(find_pipeline(root.layout, "shop").value().review_apps);
}

TEST_CASE("a damaged pipelines.toml is an error that names what is wrong", "[pipelines]") {
  Root root({});
  std::filesystem::create_directories(root.layout.pipelines_dir());
  const std::string id = "5f0c6f2e-8d3b-4a57-9a43-0e6f7c1d2b3a";
  for (auto [text, says] : std::initializer_list<std::pair<std::string, std::string>>{
           {"pipeline = [", "is corrupt"},
           {"colour = 1\n", "unknown key 'colour'"},
           {"pipeline = 3\n", "'pipeline' must be a list of tables"},
           {"[[pipeline]]\nid = \"x\"\nname = \"shop\"\ncreated_at = 2026-01-01T00:00:00Z\n"
            "updated_at = 2026-01-01T00:00:00Z\n",
            "pipeline 1 must hold id (a UUID)"},
           {"[[pipeline]]\nid = \"" + id +
                "\"\nname = \"../etc\"\ncreated_at = 2026-01-01T00:00:00Z\n"
                "updated_at = 2026-01-01T00:00:00Z\n",
            "pipeline 1 must hold"},
           {"[[pipeline]]\nid = \"" + id +
                "\"\nname = \"shop\"\ncreated_at = 2026-01-01T00:00:00Z\n"
                "updated_at = 2026-01-01T00:00:00Z\nowner = \"x\"\n",
            "and nothing else"},
           {"[[pipeline]]\nid = \"" + id +
                "\"\nname = \"shop\"\ncreated_at = 2026-01-01T00:00:00Z\n"
                "updated_at = 2026-01-01T00:00:00Z\nwait_for_ci = \"staging\"\n",
            "wait_for_ci must be a list of stages"},
           {"[[pipeline]]\nid = \"" + id +
                "\"\nname = \"shop\"\ncreated_at = 2026-01-01T00:00:00Z\n"
                "updated_at = 2026-01-01T00:00:00Z\nwait_for_ci = [\"qa\"]\n",
            "unknown stage 'qa'"},
           {"[[pipeline]]\nid = \"" + id +
                "\"\nname = \"shop\"\ncreated_at = 2026-01-01T00:00:00Z\n"
                "updated_at = 2026-01-01T00:00:00Z\nwait_for_ci = [\"staging\", \"staging\"]\n",
            "names a stage twice"},
           {"[[pipeline]]\nid = \"" + id +
                "\"\nname = \"shop\"\ncreated_at = 2026-01-01T00:00:00Z\n"
                "updated_at = 2026-01-01T00:00:00Z\n[pipeline.review_apps]\nautodeploy = true\n"
                "autodestroy = false\nstale_days = -1\nmax = 0\n",
            "review_apps must hold autodeploy and autodestroy"},
           {"[[pipeline]]\nid = \"" + id +
                "\"\nname = \"shop\"\ncreated_at = 2026-01-01T00:00:00Z\n"
                "updated_at = 2026-01-01T00:00:00Z\n[pipeline.review_apps]\nautodeploy = 1\n",
            "review_apps must hold"}}) {
    INFO(text);
    write_file(root.layout.pipelines_file(), text);
    auto loaded = load_pipelines(root.layout);
    REQUIRE_FALSE(loaded);
    CHECK(contains(loaded.error().message, says));
    CHECK(contains(loaded.error().message, root.layout.pipelines_file().string()));
  }
}

TEST_CASE("pipeline names follow the app name rules", "[pipelines]") {
  CHECK(validate_pipeline_name("shop-2"));
  for (const char* bad : {"", "a", "Shop", "2shop", "shop_x", "../x", "a b"}) {
    INFO(bad);
    auto valid = validate_pipeline_name(bad);
    REQUIRE_FALSE(valid);
    CHECK(contains(valid.error().message, "invalid pipeline name"));
  }
}

TEST_CASE("an app's coupling round-trips through app.toml and a damaged one is named",
          "[pipelines]") {
  Root root({"shop-stg", "shop-prod"});
  Pipeline shop = root.pipeline("shop");
  root.couple("shop-prod", shop, Stage::production, true);
  auto info = app_info(root.layout, "shop-prod");
  REQUIRE(info);
  REQUIRE(info->coupling);
  CHECK(info->coupling->pipeline == shop.id);
  CHECK(info->coupling->stage == Stage::production);
  CHECK(info->promotion_only);

  std::string text = read_text(root.layout.app_file("shop-prod"));
  for (auto [from, to] : std::initializer_list<std::pair<std::string, std::string>>{
           {"stage = 'production'", "stage = 'live'"},
           {"pipeline = '" + shop.id + "'", "pipeline = '../../etc'"},
           {"stage = 'production'", "stage = 'production'\nextra = 1"}}) {
    INFO(to);
    std::string damaged = text;
    REQUIRE(damaged.find(from) != std::string::npos);
    damaged.replace(damaged.find(from), from.size(), to);
    write_file(root.layout.app_file("shop-prod"), damaged);
    auto read = app_info(root.layout, "shop-prod");
    REQUIRE_FALSE(read);
    CHECK(contains(read.error().message, "[pipeline] must hold id and pipeline (UUIDs), stage"));
  }
  std::string yes = text;
  yes.replace(yes.find("promotion_only = true"), 21, "promotion_only = \"yes\"");
  write_file(root.layout.app_file("shop-prod"), yes);
  CHECK(contains(app_info(root.layout, "shop-prod").error().message,
                 "'promotion_only' must be true or false"));
}

TEST_CASE("members come by stage, and a coupling to a destroyed pipeline counts as none",
          "[pipelines]") {
  Root root({"a-prod", "b-stg", "c-dev", "other"});
  Pipeline shop = root.pipeline("shop");
  root.couple("a-prod", shop, Stage::production);
  root.couple("b-stg", shop, Stage::staging);
  root.couple("c-dev", shop, Stage::development);
  auto members = pipeline_members(root.layout, shop.id);
  REQUIRE(members.size() == 3);
  CHECK(members[0].app == "c-dev");
  CHECK(members[1].app == "b-stg");
  CHECK(members[2].app == "a-prod");
  auto member = pipeline_member(root.layout, "b-stg");
  REQUIRE(member);
  REQUIRE(*member);
  CHECK(stage_members(root.layout, **member, Stage::production).size() == 1);
  CHECK_FALSE(pipeline_member(root.layout, "other").value());

  REQUIRE(save_pipelines(root.layout, {}));
  CHECK_FALSE(pipeline_member(root.layout, "b-stg").value());
}

TEST_CASE("promotion_only refuses direct deploys of a production app only", "[pipelines]") {
  Root root({"shop-stg", "shop-prod"});
  Pipeline shop = root.pipeline("shop");
  root.couple("shop-stg", shop, Stage::staging);
  root.couple("shop-prod", shop, Stage::production);
  CHECK_FALSE(direct_deploy_refusal(root.layout, "shop-prod"));
  root.couple("shop-prod", shop, Stage::production, true);
  CHECK(direct_deploy_refusal(root.layout, "shop-prod") ==
        "production changes only by promotion: slipway pipelines:promote -a shop-stg");
  CHECK_FALSE(direct_deploy_refusal(root.layout, "shop-stg"));
  // Out of the pipeline (destroyed), the flag means nothing.
  REQUIRE(save_pipelines(root.layout, {}));
  CHECK_FALSE(direct_deploy_refusal(root.layout, "shop-prod"));
}

namespace {

Promotion some_promotion() {
  Promotion promotion{.id = random_uuid().value(),
                      .pipeline_id = random_uuid().value(),
                      .source_app = "shop-stg",
                      .source_app_id = random_uuid().value(),
                      .source_version = 7,
                      .commit = std::string(40, 'a'),
                      .slug = "sha256:" + std::string(64, 'b'),
                      .actor = "alice",
                      .created_at = std::chrono::time_point_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now()),
                      .updated_at = std::chrono::time_point_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now())};
  promotion.targets.push_back({.id = random_uuid().value(), .app = "shop-prod", .app_id = "x"});
  promotion.targets.push_back({.id = random_uuid().value(),
                               .app = "shop-eu",
                               .app_id = "y",
                               .status = "failed",
                               .error_message = "release phase exited with status 1",
                               .version = 4});
  return promotion;
}

} // namespace

TEST_CASE("a promotion record round-trips and its status follows its targets", "[pipelines]") {
  Promotion promotion = some_promotion();
  CHECK(promotion.status() == "pending");
  auto parsed = promotion_from_toml(promotion_to_toml(promotion), "p.toml");
  REQUIRE(parsed);
  CHECK(promotion_to_toml(*parsed) == promotion_to_toml(promotion));
  CHECK(parsed->targets[1].version == 4);
  CHECK(parsed->targets[1].error_message == "release phase exited with status 1");
  parsed->targets[0].status = "succeeded";
  CHECK(parsed->status() == "completed");

  for (const char* bad : {"id = 3", "[[target]]\nstatus = \"maybe\""}) {
    INFO(bad);
    CHECK_FALSE(promotion_from_toml(promotion_to_toml(promotion) + bad + "\n", "p.toml"));
  }
  CHECK_FALSE(promotion_from_toml("not toml [", "p.toml"));
}

TEST_CASE("a pending promotion nobody runs is settled as failed, one being run is not",
          "[pipelines]") {
  Root root({});
  Promotion promotion = some_promotion();
  promotion.started = true;
  REQUIRE(save_promotion(root.layout, promotion));
  {
    // Its runner holds the lock: it stays pending.
    auto claim = claim_promotion(root.layout, promotion.id);
    REQUIRE(claim);
    CHECK(load_promotion(root.layout, promotion.id).value().status() == "pending");
  }
  // The runner is gone (killed): the next reader settles it.
  auto settled = load_promotion(root.layout, promotion.id);
  REQUIRE(settled);
  CHECK(settled->status() == "completed");
  CHECK(settled->targets[0].status == "failed");
  CHECK(contains(settled->targets[0].error_message, "the promotion was interrupted"));
  CHECK(settled->targets[1].error_message == "release phase exited with status 1");

  // One never claimed stays pending for a while: its runner may be starting.
  Promotion young = some_promotion();
  REQUIRE(save_promotion(root.layout, young));
  CHECK(load_promotion(root.layout, young.id).value().status() == "pending");

  auto missing = load_promotion(root.layout, "../../etc/passwd");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::not_found);
}
