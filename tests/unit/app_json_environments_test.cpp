#include <catch2/catch.hpp>

#include "compiler/app_json.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;

namespace {

using Names = std::vector<std::string>;

std::string app_json_error(std::string_view text) {
  auto manifest = parse_app_json(text);
  REQUIRE_FALSE(manifest);
  return manifest.error().message;
}

bool has_note(const AppJson& manifest, std::string_view note) {
  return std::ranges::find(manifest.notes, note) != manifest.notes.end();
}

const EnvVarSpec& var(const std::vector<EnvVarSpec>& env, std::string_view name) {
  auto it = std::ranges::find(env, name, &EnvVarSpec::name);
  REQUIRE(it != env.end());
  return *it;
}

} // namespace

TEST_CASE("app.json environments.test as Heroku CI's docs write it", "[app_json]") {
  // Heroku's app.json schema example.
  auto schema = parse_app_json(R"({
    "scripts": {"postdeploy": "bundle exec rake bootstrap"},
    "environments": {"test": {"scripts": {"test": "bundle exec rake test"}}}
  })");
  REQUIRE(schema);
  CHECK(schema->test.declared);
  CHECK(schema->test.test == "bundle exec rake test");
  CHECK(schema->test.test_setup.empty());
  CHECK_FALSE(schema->test.test_nodes);
  CHECK(schema->scripts.postdeploy == "bundle exec rake bootstrap");
  CHECK_FALSE(schema->review.declared);

  // Heroku CI's parallel test runs: up to 32 test dynos.
  auto parallel =
      parse_app_json(R"({"environments": {"test": {"formation": {"test": {"quantity": 32}}}}})");
  REQUIRE(parallel);
  CHECK(parallel->test.test_nodes == 32);
  CHECK(parallel->test.formation.empty());
}

TEST_CASE("app.json environments.test: buildpacks, env, add-ons, formation and scripts",
          "[app_json]") {
  // As heroku-buildpack-ruby's own app.json has it.
  auto manifest = parse_app_json(R"({
    "name": "Heroku Buildpack Ruby",
    "buildpacks": [{"url": "heroku/ruby"}],
    "env": {"TOP": "level"},
    "environments": {
      "test": {
        "addons": ["heroku-redis:hobby-dev", {"plan": "heroku-postgresql:in-dyno", "as": "DB"}],
        "env": {
          "HATCHET_RETRIES": "3",
          "IS_RUNNING_ON_CI": "true",
          "API_KEY": {"description": "for the suite", "required": false},
          "SECRET": {"generator": "secret"}
        },
        "formation": {"test": {"size": "performance-l", "quantity": 16}},
        "scripts": {
          "test-setup": "bundle exec rake hatchet:setup_ci",
          "test": "bundle exec rspec-queue --max-requeues=3 --timeout 180 --queue $REDIS_URL"
        },
        "buildpacks": [
          {"url": "https://github.com/heroku/heroku-buildpack-apt"},
          {"url": "https://github.com/heroku/heroku-buildpack-cli.git"},
          {"url": "heroku/ruby"}
        ]
      }
    }
  })");
  REQUIRE(manifest);
  const EnvironmentSpec& test = manifest->test;
  CHECK(test.declared);
  CHECK(test.buildpacks == Names{"https://github.com/heroku/heroku-buildpack-apt",
                                 "https://github.com/heroku/heroku-buildpack-cli.git",
                                 "heroku/ruby"});
  REQUIRE(test.env.size() == 4);
  CHECK(var(test.env, "HATCHET_RETRIES").value == "3");
  CHECK(var(test.env, "IS_RUNNING_ON_CI").value == "true");
  CHECK(var(test.env, "API_KEY").description == "for the suite");
  CHECK_FALSE(var(test.env, "API_KEY").required);
  CHECK_FALSE(var(test.env, "API_KEY").value);
  CHECK(var(test.env, "SECRET").secret);
  CHECK(test.test_nodes == 16);
  CHECK(test.test_setup == "bundle exec rake hatchet:setup_ci");
  CHECK(test.test == "bundle exec rspec-queue --max-requeues=3 --timeout 180 --queue $REDIS_URL");
  CHECK(test.addons == Names{"heroku-redis:hobby-dev", "heroku-postgresql:in-dyno"});
  CHECK(test.postdeploy.empty());
  CHECK(test.predestroy.empty());
  // The top level keeps its own keys.
  CHECK(manifest->buildpacks == Names{"heroku/ruby"});
  REQUIRE(manifest->env.size() == 1);
  CHECK(manifest->env[0].name == "TOP");
  // Add-ons and sizes are listed, never provisioned.
  CHECK(has_note(*manifest, "environments.test.addons: heroku-redis:hobby-dev, "
                            "heroku-postgresql:in-dyno ignored: slipway does not provision "
                            "add-ons"));
  CHECK(has_note(*manifest, "environments.test.formation sizes ignored: every process here has "
                            "the one size set by [runtime] limits"));
}

TEST_CASE("app.json environments.review: review apps' overrides", "[app_json]") {
  auto manifest = parse_app_json(R"({
    "scripts": {"postdeploy": "bin/setup", "pr-predestroy": "bin/teardown"},
    "environments": {
      "review": {
        "addons": ["heroku-postgresql:mini"],
        "buildpacks": [{"url": "heroku/nodejs"}],
        "env": {"RAILS_ENV": "staging", "HEROKU_APP_NAME": {"required": true}},
        "formation": {"web": {"quantity": 1}, "worker": {"quantity": 50}},
        "scripts": {
          "postdeploy": "bundle exec rake heroku:review_app_setup",
          "pr-predestroy": "bundle exec rake heroku:review_app_predestroy"
        }
      }
    }
  })");
  REQUIRE(manifest);
  const EnvironmentSpec& review = manifest->review;
  CHECK(review.declared);
  CHECK_FALSE(manifest->test.declared);
  CHECK(review.addons == Names{"heroku-postgresql:mini"});
  CHECK(review.buildpacks == Names{"heroku/nodejs"});
  CHECK(var(review.env, "RAILS_ENV").value == "staging");
  CHECK(var(review.env, "HEROKU_APP_NAME").required);
  CHECK_FALSE(var(review.env, "HEROKU_APP_NAME").value);
  REQUIRE(review.formation.size() == 2);
  CHECK(review.formation[0].type == "web");
  CHECK(review.formation[0].quantity == 1);
  CHECK(review.formation[1].type == "worker");
  CHECK(review.formation[1].quantity == 50); // the top-level range, not the test nodes'
  CHECK(review.postdeploy == "bundle exec rake heroku:review_app_setup");
  CHECK(review.predestroy == "bundle exec rake heroku:review_app_predestroy");
  CHECK_FALSE(review.test_nodes);
  CHECK(review.test.empty());
  // The top-level scripts stay as they are, pr-predestroy included.
  CHECK(manifest->scripts.postdeploy == "bin/setup");
  CHECK(manifest->scripts.pr_predestroy == "bin/teardown");
}

TEST_CASE("empty and absent environments", "[app_json]") {
  auto none = parse_app_json(R"({"name": "x"})");
  REQUIRE(none);
  CHECK_FALSE(none->test.declared);
  CHECK_FALSE(none->review.declared);
  auto empty = parse_app_json(R"({"environments": {"test": {}, "review": {}}})");
  REQUIRE(empty);
  CHECK(empty->test.declared);
  CHECK(empty->review.declared);
  CHECK(empty->test.test.empty());
  CHECK_FALSE(empty->test.test_nodes);
  CHECK(empty->notes.empty());
  auto no_environments = parse_app_json(R"({"environments": {}})");
  REQUIRE(no_environments);
  CHECK_FALSE(no_environments->test.declared);
  // A size alone leaves the number of test nodes to the runner.
  auto sized = parse_app_json(
      R"({"environments": {"test": {"formation": {"test": {"size": "performance-l"}}}}})");
  REQUIRE(sized);
  CHECK_FALSE(sized->test.test_nodes);
  auto one =
      parse_app_json(R"({"environments": {"test": {"formation": {"test": {"quantity": 1}}}}})");
  REQUIRE(one);
  CHECK(one->test.test_nodes == 1);
}

TEST_CASE("a malformed environment names the full key path", "[app_json]") {
  CHECK(contains(app_json_error(R"({"environments": []})"),
                 "app.json: 'environments' must be an object, got array"));
  CHECK(contains(app_json_error(R"({"environments": {"test": "npm test"}})"),
                 "app.json: 'environments.test' must be an object, got string"));
  CHECK(contains(app_json_error(R"({"environments": {"review": null}})"),
                 "app.json: 'environments.review' must be an object, got null"));

  // Test nodes: 1 to 32.
  CHECK(contains(
      app_json_error(R"({"environments": {"test": {"formation": {"test": {"quantity": "two"}}}}})"),
      "app.json: 'environments.test.formation.test.quantity' must be a whole number from 1 to "
      "32, got \"two\""));
  CHECK(contains(
      app_json_error(R"({"environments": {"test": {"formation": {"test": {"quantity": 0}}}}})"),
      "'environments.test.formation.test.quantity' must be a whole number from 1 to 32, got 0"));
  CHECK(contains(
      app_json_error(R"({"environments": {"test": {"formation": {"test": {"quantity": 33}}}}})"),
      "'environments.test.formation.test.quantity' must be a whole number from 1 to 32, got 33"));
  CHECK(contains(
      app_json_error(R"({"environments": {"test": {"formation": {"test": {"quantity": 2.5}}}}})"),
      "'environments.test.formation.test.quantity' must be a whole number from 1 to 32, got 2.5"));
  CHECK(contains(app_json_error(R"({"environments": {"test": {"formation": {"test": 4}}}})"),
                 "'environments.test.formation.test' must be an object such as {\"quantity\": "
                 "1}, got number"));
  CHECK(contains(app_json_error(R"({"environments": {"test": {"formation": 4}}})"),
                 "'environments.test.formation' must be an object of process types, got number"));

  // Review formation: the top-level rules.
  CHECK(contains(
      app_json_error(R"({"environments": {"review": {"formation": {"web": {"quantity": -1}}}}})"),
      "'environments.review.formation.web.quantity' must be a whole number from 0 to 100, got "
      "-1"));
  CHECK(
      contains(app_json_error(R"({"environments": {"review": {"formation": {"web worker": {}}}}})"),
               "'environments.review.formation.web worker': invalid process type name"));
  CHECK(contains(app_json_error(R"({"environments": {"review": {"formation": []}}})"),
                 "'environments.review.formation' must be an object of process types, got array"));

  // Scripts.
  CHECK(contains(app_json_error(R"({"environments": {"test": {"scripts": "npm test"}}})"),
                 "'environments.test.scripts' must be an object, got string"));
  CHECK(contains(app_json_error(R"({"environments": {"test": {"scripts": {"test": 5}}}})"),
                 "'environments.test.scripts.test' must be a string, got number"));
  CHECK(contains(app_json_error(R"({"environments": {"test": {"scripts": {"test-setup": []}}}})"),
                 "'environments.test.scripts.test-setup' must be a string, got array"));
  CHECK(contains(app_json_error(R"({"environments": {"review": {"scripts": {"postdeploy": 1}}}})"),
                 "'environments.review.scripts.postdeploy' must be a string, got number"));
  CHECK(contains(
      app_json_error(R"({"environments": {"review": {"scripts": {"pr-predestroy": {}}}}})"),
      "'environments.review.scripts.pr-predestroy' must be a string, got object"));

  // Env: the top-level forms.
  CHECK(contains(app_json_error(R"({"environments": {"test": {"env": ["A=1"]}}})"),
                 "'environments.test.env' must be an object of config vars, got array"));
  CHECK(contains(app_json_error(R"({"environments": {"review": {"env": {"1BAD": "x"}}}})"),
                 "'environments.review.env.1BAD': invalid config var name"));
  CHECK(contains(app_json_error(R"({"environments": {"test": {"env": {"A": 1}}}})"),
                 "'environments.test.env.A' must be a string or an object, got number"));
  CHECK(contains(
      app_json_error(R"({"environments": {"test": {"env": {"A": {"generator": "uuid"}}}}})"),
      "'environments.test.env.A.generator' must be \"secret\", got \"uuid\""));
  CHECK(
      contains(app_json_error(R"({"environments": {"test": {"env": {"A": {"required": "yes"}}}}})"),
               "'environments.test.env.A.required' must be true or false, got string"));
  CHECK(contains(app_json_error(R"({"environments": {"test": {"env": {"A": {"value": 1}}}}})"),
                 "'environments.test.env.A.value' must be a string, got number"));

  // Buildpacks.
  CHECK(contains(app_json_error(R"({"environments": {"test": {"buildpacks": {"url": "x"}}}})"),
                 "'environments.test.buildpacks' must be a list, got object"));
  CHECK(contains(
      app_json_error(R"({"environments": {"review": {"buildpacks": [{"url": "a"}, "b"]}}})"),
      "'environments.review.buildpacks[1]' must be an object with a 'url' string"));
}

TEST_CASE("every problem of the environments is reported in one pass, with the rest's",
          "[app_json]") {
  auto message = app_json_error(R"({
    "formation": {"web": {"quantity": -1}},
    "environments": {
      "test": {
        "formation": {"test": {"quantity": "two"}},
        "scripts": {"test": 5},
        "env": {"1BAD": "x"}
      },
      "review": {"buildpacks": "heroku/ruby", "scripts": {"pr-predestroy": false}}
    }
  })");
  CHECK(contains(message, "app.json has 6 problems:\n"));
  CHECK(contains(message, "'formation.web.quantity' must be a whole number from 0 to 100"));
  CHECK(contains(message, "'environments.test.formation.test.quantity' must be a whole number "
                          "from 1 to 32, got \"two\""));
  CHECK(contains(message, "'environments.test.scripts.test' must be a string, got number"));
  CHECK(contains(message, "'environments.test.env.1BAD': invalid config var name"));
  CHECK(contains(message, "'environments.review.buildpacks' must be a list, got string"));
  CHECK(contains(message, "'environments.review.scripts.pr-predestroy' must be a string, got "
                          "boolean"));
}

TEST_CASE("keys an environment gives no meaning here are notes, never failures", "[app_json]") {
  auto manifest = parse_app_json(R"({
    "environments": {
      "test": {
        "stack": "heroku-22",
        "formation": {"web": {"quantity": 0}, "test": {"quantity": 2, "autoscale": true}},
        "scripts": {"test": "npm test", "postdeploy": "bin/seed"},
        "env": {"A": {"value": "1", "default": "2"}},
        "addons": "heroku-postgresql"
      },
      "review": {"scripts": {"test": "npm test"}, "image": "heroku/ruby"},
      "production": {"env": {"A": 1}},
      "staging": "anything"
    }
  })");
  REQUIRE(manifest);
  CHECK(manifest->test.test_nodes == 2);
  CHECK(manifest->test.test == "npm test");
  CHECK(manifest->test.formation.empty());
  CHECK(manifest->test.addons.empty());
  using Notes = std::vector<std::string>;
  CHECK(manifest->notes ==
        Notes{
            "environments.production ignored: slipway reads environments.test (CI test runs) and "
            "environments.review (review apps)",
            "unknown key 'environments.review.image' ignored",
            "environments.review.scripts.test ignored: a review app runs postdeploy and "
            "pr-predestroy",
            "environments.staging ignored: slipway reads environments.test (CI test runs) and "
            "environments.review (review apps)",
            "environments.test.addons ignored: not a list, and slipway does not provision add-ons",
            "environments.test.env.A: key 'default' ignored",
            "environments.test.formation.web ignored: a test run has test dynos only",
            "environments.test.formation.test: key 'autoscale' ignored",
            "environments.test.scripts.postdeploy ignored: a test run runs test-setup and test",
            "unknown key 'environments.test.stack' ignored",
        });
}

TEST_CASE("top-level add-ons that are not a list, or plans that are not strings, are notes",
          "[app_json]") {
  auto manifest = parse_app_json(R"({"addons": "heroku-postgresql"})");
  REQUIRE(manifest);
  CHECK(manifest->notes ==
        std::vector<std::string>{
            "addons ignored: not a list, and slipway does not provision add-ons"});
  auto odd = parse_app_json(R"({"addons": [{"plan": 5}, 7, {"as": "DB"}]})");
  REQUIRE(odd);
  CHECK(odd->notes ==
        std::vector<std::string>{"addons: ?, 7, ? ignored: slipway does not provision add-ons"});
}
