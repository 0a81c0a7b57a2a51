// app.json, Heroku's app manifest, with Dokku's additions (`healthchecks`,
// `scripts.dokku`): parsed once, every problem reported in one pass. JSON with // and /* */
// comments is accepted, as Dokku's own sample apps have them. Keys slipway gives no meaning
// and keys it does not know are notes for the build output, never failures.
// The table of keys and what slipway does with each: README.md "app.json".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace slipway {

// A config var the app declares (`env`). On the first deploy `value` becomes the var unless
// it is already set; a required var with neither fails the deploy; `secret` generates one.
struct EnvVarSpec {
  std::string name;
  std::string description;
  std::optional<std::string> value;
  bool required = true; // Heroku's default
  bool secret = false;  // "generator": "secret"
};

// The initial quantity of one process type (`formation`), applied on the first deploy.
struct FormationSpec {
  std::string type;
  int quantity = 1;
};

// What a web process must answer: before it takes traffic (Dokku's startup check) or, for
// a liveness check, while it runs. Without a startup check: any HTTP answer below 500 on
// "/", polled until [runtime].health_timeout.
struct HealthCheck {
  std::string path = "/";
  std::string content; // a string the body must contain; empty: any body
  bool declared = false;
  std::string name;
  // Dokku's timing keys; unset ones keep slipway's behaviour (poll fast until
  // health_timeout). A declared check fails after `attempts`, not after health_timeout.
  std::optional<int> attempts;
  std::optional<std::chrono::seconds> wait;          // between attempts
  std::optional<std::chrono::seconds> timeout;       // of one attempt
  std::optional<std::chrono::seconds> initial_delay; // before the first
  std::optional<std::chrono::seconds> uptime;        // the process must stay up this long
};

// A liveness check's pace where app.json leaves it out (Kubernetes' period and threshold,
// Dokku's timeout): asked every 10 s, 5 s for an answer, 3 failures in a row restart it.
inline constexpr std::chrono::seconds k_liveness_wait{10};
inline constexpr std::chrono::seconds k_liveness_timeout{5};
inline constexpr int k_liveness_attempts = 3;

// The checks of the web process: startup before it takes traffic, and liveness (when the
// app declares one) asked on a timer once it is up; failing it restarts the process.
struct WebHealthChecks {
  HealthCheck startup;
  std::optional<HealthCheck> liveness;
};

struct AppScripts {
  std::string postdeploy;       // once, after the first successful deploy (Heroku)
  std::string pr_predestroy;    // before a review app is destroyed (Heroku's "pr-predestroy")
  std::string dokku_predeploy;  // in the build, before the slug is packed (Dokku)
  std::string dokku_postdeploy; // after every switch (Dokku)
};

// Heroku CI's test runs allow up to 32 test dynos in parallel.
inline constexpr int k_max_test_nodes = 32;

// One of app.json's `environments`: `test` (Heroku CI) or `review` (review apps). As
// written in the file: where Heroku lets an environment's key override the top-level one
// (buildpacks, env, formation, scripts, addons), the caller merges; AppJson::document keeps the
// raw JSON for telling an absent key from an empty one.
struct EnvironmentSpec {
  std::vector<std::string> buildpacks;  // environments.X.buildpacks[].url
  std::vector<EnvVarSpec> env;          // environments.X.env, as the top-level env
  std::string test_setup;               // environments.test.scripts["test-setup"]
  std::string test;                     // environments.test.scripts.test
  std::string postdeploy;               // environments.review.scripts.postdeploy
  std::string predestroy;               // environments.review.scripts["pr-predestroy"]
  std::optional<int> test_nodes;        // environments.test.formation.test.quantity, 1..32
  std::vector<FormationSpec> formation; // environments.review.formation
  std::vector<std::string> addons;      // plans named, never provisioned (a note says so)
  bool declared = false;                // the environment is in the file
};

struct AppJson {
  std::vector<std::string> buildpacks; // the `url` of each entry, in order
  WebHealthChecks health_checks;
  std::vector<EnvVarSpec> env;
  std::vector<FormationSpec> formation;
  AppScripts scripts;
  std::string stack;
  EnvironmentSpec test;   // environments.test: Heroku CI's test runs
  EnvironmentSpec review; // environments.review: review apps
  // For the build output: keys that mean nothing here, and keys nobody defines.
  std::vector<std::string> notes;
  nlohmann::json document; // the whole manifest
};

// Every problem of `text` in one error (one per line after the first), or the manifest.
// Malformed JSON names the line and column and shows the line.
Expected<AppJson> parse_app_json(std::string_view text);

// Only the web health checks of app.json, for a release the build already validated: what
// a later slipway judges differently elsewhere in the file never stops an old release (a
// rollback) from starting.
Expected<WebHealthChecks> parse_web_health_checks(std::string_view text);

// The manifest as a review app sees it (Heroku's rule: environments.review's keys override
// the top-level ones): env is the top level's with review's vars added or replacing those of
// the same name; buildpacks are review's when it names any; formation is review's, else
// none (one web process); postdeploy and pr-predestroy are review's when it has them.
AppJson review_app_manifest(AppJson manifest);

} // namespace slipway
