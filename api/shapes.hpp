// slipway's records as the Platform API's JSON, in Heroku's shapes: the one place each
// resource is printed. Ids are UUIDs: an app's is kept in its app.toml, and the others are
// derived from it (or from the server's) and what names them, so that they stay the same
// across restarts without a record of their own.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/config.hpp"
#include "ops/apps.hpp"
#include "ops/pipelines.hpp"
#include "ops/processes.hpp"
#include "ops/releases.hpp"
#include "runtime/authorizations.hpp"
#include "runtime/builds.hpp"
#include "runtime/keys.hpp"
#include "runtime/layout.hpp"
#include "runtime/test_runs.hpp"

namespace slipway::api {

// The base the server-wide ids (accounts) derive from.
std::string server_uuid(const Layout& layout);

// A number that changes whenever the keys' emails may have: what user_json says is the same
// while it is.
std::uint64_t users_generation(const Layout& layout, const Config& config);

// {"id", "email"} of whoever `name` is: a key (its email), the local user, slipway itself.
nlohmann::json user_json(const Layout& layout, const Config& config, const std::string& name);
nlohmann::json account_json(const Layout& layout, const Config& config, const SshKey& key);
// `owner`: whom the API calls the owner (slipway has none: the asking admin, else an admin).
nlohmann::json app_json(const Layout& layout, const Config& config, const ops::AppSummary& app,
                        const std::string& owner);
// {"id", "name"} of an app, as other resources refer to it.
nlohmann::json app_ref_json(const ops::AppRef& app);

std::string release_id(const ops::AppRef& app, int version);
nlohmann::json release_json(const Layout& layout, const Config& config, const ops::AppRef& app,
                            const ops::ReleaseDetails& release);

std::string build_id(const ops::AppRef& app, int build);
nlohmann::json build_json(const Layout& layout, const Config& config, const ops::AppRef& app,
                          const BuildRecord& build, const std::string& output_stream_url);

std::string formation_id(const ops::AppRef& app, const std::string& type);
nlohmann::json formation_json(const ops::AppRef& app, const ops::FormationEntry& entry,
                              const std::string& size);

std::string dyno_id(const ops::AppRef& app, const std::string& name);
nlohmann::json dyno_json(const ops::AppRef& app, const control::ProcessStatus& process,
                         const std::string& size);

std::string domain_id(const ops::AppRef& app, const std::string& host);
nlohmann::json domain_json(const Config& config, const ops::AppRef& app, const std::string& host);

std::string collaborator_id(const ops::AppRef& app, const std::string& key);
nlohmann::json collaborator_json(const Layout& layout, const Config& config, const ops::AppRef& app,
                                 const std::string& key, bool admin);

// A pipeline: `owner` is whom the API calls its owner, as for apps (slipway has none).
nlohmann::json pipeline_json(const Layout& layout, const Config& config, const Pipeline& pipeline,
                             const std::string& owner);
// An app's coupling to `pipeline` (its pipeline, for the name).
nlohmann::json coupling_json(const PipelineMember& member, const Pipeline& pipeline);
nlohmann::json promotion_json(const Promotion& promotion);
nlohmann::json promotion_target_json(const Promotion& promotion, const PromotionTarget& target);

// A CI test run (Heroku CI's test-run) and its nodes (test-node, their ids derived from the
// run's); the stream URLs are signed by the caller.
nlohmann::json test_run_json(const Layout& layout, const Config& config, const TestRun& run);
std::string test_node_id(const TestRun& run, int index);
nlohmann::json test_node_json(const TestRun& run, const TestNode& node,
                              const std::string& output_stream_url,
                              const std::string& setup_stream_url);

nlohmann::json authorization_json(const Layout& layout, const Config& config,
                                  const Authorization& authorization);

// The size every process runs at, as Heroku names a dyno size: "512MB".
std::string size_name(const ops::ProcessSize& size);

} // namespace slipway::api
