#include "api/shapes.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <tuple>

#include "common/random.hpp"
#include "common/time.hpp"
#include "compiler/compile.hpp"
#include "runtime/apps.hpp"

namespace slipway::api {

namespace {

using nlohmann::json;

json time_json(TimePoint when) {
  return format_time(when);
}

} // namespace

std::string server_uuid(const Layout& layout) {
  return derived_uuid("00000000-0000-8000-8000-000000000000", "slipway server " + layout.id());
}

namespace {

// The keys' emails, read again when keys.toml changes (its inode, size and time), looked at
// at most every 100 ms: a list of releases names its users many times, and the API lists on
// every request.
// How many times the emails were read: what they are is the same while this is.
std::uint64_t g_users_generation = 0;

std::string email_of(const Layout& layout, const Config& config, const std::string& name,
                     std::uint64_t* generation = nullptr) {
  using Stamp = std::tuple<std::string, std::string, ino_t, off_t, long, long>;
  static std::mutex mutex;
  static Stamp loaded;
  static std::chrono::steady_clock::time_point checked;
  static std::map<std::string, std::string> emails;
  std::lock_guard lock(mutex);
  auto now = std::chrono::steady_clock::now();
  if (now - checked > std::chrono::milliseconds(100) || std::get<0>(loaded) != layout.root() ||
      std::get<1>(loaded) != config.server.domain) {
    checked = now;
    struct stat info {};
    ::stat(layout.keys_file().c_str(), &info);
    Stamp stamp{layout.root().string(), config.server.domain, info.st_ino,
                info.st_size,           info.st_mtim.tv_sec,  info.st_mtim.tv_nsec};
    if (stamp != loaded) {
      ++g_users_generation;
      emails.clear();
      for (const auto& key : list_keys(layout)) {
        emails[key.name] = key_email(key, config);
      }
      loaded = stamp;
    }
  }
  if (generation) {
    *generation = g_users_generation;
  }
  auto found = emails.find(name);
  return found != emails.end() ? found->second : fmt::format("{}@{}", name, config.server.domain);
}

} // namespace

std::uint64_t users_generation(const Layout& layout, const Config& config) {
  std::uint64_t generation = 0;
  email_of(layout, config, "", &generation);
  return generation;
}

json user_json(const Layout& layout, const Config& config, const std::string& name) {
  return {{"id", derived_uuid(server_uuid(layout), "account " + name)},
          {"email", email_of(layout, config, name)}};
}

json account_json(const Layout& layout, const Config& config, const SshKey& key) {
  json out = user_json(layout, config, key.name);
  out.update({{"name", key.name},
              {"created_at", time_json(key.added_at)},
              {"updated_at", time_json(key.added_at)},
              {"verified", true},
              {"two_factor_authentication", false},
              {"allow_tracking", false},
              {"beta", false},
              {"federated", false},
              {"last_login", nullptr},
              {"sms_number", nullptr},
              {"suspended_at", nullptr},
              {"delinquent_at", nullptr},
              {"default_organization", nullptr},
              {"default_team", nullptr},
              {"identity_provider", nullptr},
              {"admin", key.admin}});
  return out;
}

json app_ref_json(const ops::AppRef& app) {
  return {{"id", app.id}, {"name", app.name}};
}

json app_json(const Layout& layout, const Config& config, const ops::AppSummary& app,
              const std::string& owner) {
  // The stack it was built on, else the one the next build would use (never null: the heroku
  // CLI's apps:info reads its name).
  std::string stack_name = app.stack.empty() ? std::string(k_stack) : app.stack;
  json stack{{"id", derived_uuid(server_uuid(layout), "stack " + stack_name)},
             {"name", stack_name}};
  std::string buildpacks;
  for (const auto& buildpack : app.buildpacks) {
    buildpacks += (buildpacks.empty() ? "" : ", ") + buildpack;
  }
  return {
      {"id", app.id},
      {"name", app.name},
      {"created_at", time_json(app.created_at)},
      {"updated_at", time_json(app.released_at.value_or(app.created_at))},
      {"released_at", app.released_at ? time_json(*app.released_at) : json(nullptr)},
      {"web_url", app.url + "/"},
      {"git_url", fmt::format("ssh://git@{}/{}", config.server.domain, app.name)},
      {"maintenance", app.maintenance},
      {"stack", stack},
      {"build_stack", stack},
      {"buildpack_provided_description", buildpacks.empty() ? json(nullptr) : json(buildpacks)},
      {"slug_size", app.slug_size == 0 ? json(nullptr) : json(app.slug_size)},
      {"repo_size", nullptr},
      {"region", {{"id", derived_uuid(server_uuid(layout), "region")}, {"name", "local"}}},
      {"owner", user_json(layout, config, owner)},
      {"organization", nullptr},
      {"team", nullptr},
      {"space", nullptr},
      {"internal_routing", nullptr},
      {"archived_at", nullptr},
      {"acm", false},
      {"generation", "cedar"},
      {"current_release", app.live ? json(app.live.value()) : json(nullptr)},
      // slipway's own (apps:set): a production app of a pipeline changes only by promotion.
      {"promotion_only", app.promotion_only},
  };
}

std::string release_id(const ops::AppRef& app, int version) {
  return derived_uuid(app.id, fmt::format("release {}", version));
}

json release_json(const Layout& layout, const Config& config, const ops::AppRef& app,
                  const ops::ReleaseDetails& details) {
  const Release& release = details.release;
  std::string status = details.status;
  if (status != "succeeded" && status != "failed" && status != "pending") {
    status = "expired";
  }
  return {{"id", release_id(app, release.version)},
          {"version", release.version},
          {"description", release.description},
          {"status", status},
          {"current", details.live},
          {"created_at", time_json(release.created_at)},
          {"updated_at", time_json(release.created_at)},
          {"user", user_json(layout, config, release.user.empty() ? "slipway" : release.user)},
          {"app", app_ref_json(app)},
          {"slug",
           release.has_slug() ? json{{"id", derived_uuid(app.id, release.slug)}} : json(nullptr)},
          {"commit", release.commit.empty() ? json(nullptr) : json(release.commit)},
          {"addon_plan_names", json::array()},
          {"artifacts", json::array()},
          {"output_stream_url", nullptr},
          // The heroku CLI's `rollback` takes the second eligible release, newest first: the
          // live one counts, as on Heroku.
          {"eligible_for_rollback", details.status == "succeeded" && release.has_slug()}};
}

std::string build_id(const ops::AppRef& app, int build) {
  return derived_uuid(app.id, fmt::format("build {}", build));
}

json build_json(const Layout& layout, const Config& config, const ops::AppRef& app,
                const BuildRecord& build, const std::string& output_stream_url) {
  std::string status =
      build.status == "succeeded" || build.status == "pending" ? build.status : "failed";
  return {{"id", build_id(app, build.id)},
          {"number", build.id},
          {"status", status},
          {"created_at", time_json(build.created_at)},
          {"updated_at", time_json(build.created_at)},
          {"app", {{"id", app.id}}},
          {"source_blob",
           {{"url", nullptr},
            {"version", build.commit.empty() ? json(nullptr) : json(build.commit)},
            {"version_description", build.ref.empty() ? json(nullptr) : json(build.ref)},
            {"checksum", nullptr}}},
          {"release", build.release ? json{{"id", release_id(app, *build.release)},
                                           {"version", *build.release}}
                                    : json(nullptr)},
          {"slug", nullptr},
          {"stack", nullptr},
          {"buildpacks", json::array()},
          {"user", user_json(layout, config, "slipway")},
          {"output_stream_url", output_stream_url}};
}

std::string formation_id(const ops::AppRef& app, const std::string& type) {
  return derived_uuid(app.id, "formation " + type);
}

json formation_json(const ops::AppRef& app, const ops::FormationEntry& entry,
                    const std::string& size) {
  return {{"id", formation_id(app, entry.type)},
          {"type", entry.type},
          {"quantity", entry.count},
          {"command", entry.command},
          {"size", size},
          {"app", app_ref_json(app)},
          {"created_at", nullptr},
          {"updated_at", nullptr}};
}

std::string dyno_id(const ops::AppRef& app, const std::string& name) {
  return derived_uuid(app.id, "dyno " + name);
}

json dyno_json(const ops::AppRef& app, const control::ProcessStatus& process,
               const std::string& size) {
  // Heroku's states: starting, up, crashed, down (and idle, which slipway has not).
  std::string state = process.state == "stopping" ? "down" : process.state;
  json started = process.started_at ? json(*process.started_at) : json(nullptr);
  return {{"id", dyno_id(app, process.name)},
          {"name", process.name},
          {"type", process.type},
          {"state", state},
          {"command", process.command},
          {"size", size},
          {"created_at", started},
          {"updated_at", started},
          {"release", {{"id", release_id(app, process.release)}, {"version", process.release}}},
          {"app", app_ref_json(app)},
          {"attach_url", nullptr}};
}

std::string domain_id(const ops::AppRef& app, const std::string& host) {
  return derived_uuid(app.id, "domain " + host);
}

json domain_json(const Config& config, const ops::AppRef& app, const std::string& host) {
  bool own = host == app_host(config, app.name);
  return {{"id", domain_id(app, host)},
          {"hostname", host},
          {"kind", own ? "heroku" : "custom"},
          {"cname", own ? json(nullptr) : json(app_host(config, app.name))},
          {"status", "none"}, // added at once: nothing is pending (Heroku's ACM status)
          {"acm_status", nullptr},
          {"acm_status_reason", nullptr},
          {"sni_endpoint", nullptr},
          {"app", app_ref_json(app)},
          {"created_at", nullptr},
          {"updated_at", nullptr}};
}

std::string collaborator_id(const ops::AppRef& app, const std::string& key) {
  return derived_uuid(app.id, "collaborator " + key);
}

json collaborator_json(const Layout& layout, const Config& config, const ops::AppRef& app,
                       const std::string& key, bool admin) {
  return {{"id", collaborator_id(app, key)},
          {"user", user_json(layout, config, key)},
          {"role", admin ? "admin" : "collaborator"},
          {"permissions", json::array({{{"name", "view"}},
                                       {{"name", "deploy"}},
                                       {{"name", "operate"}},
                                       {{"name", "manage"}}})},
          {"app", app_ref_json(app)},
          {"created_at", nullptr},
          {"updated_at", nullptr}};
}

json pipeline_json(const Layout& layout, const Config& config, const Pipeline& pipeline,
                   const std::string& owner) {
  return {{"id", pipeline.id},
          {"name", pipeline.name},
          {"created_at", time_json(pipeline.created_at)},
          {"updated_at", time_json(pipeline.updated_at)},
          {"owner", {{"id", user_json(layout, config, owner)["id"]}, {"type", "user"}}},
          // Its apps run as Heroku's cedar generation does (the heroku CLI reads the name).
          {"generation",
           {{"id", derived_uuid(server_uuid(layout), "generation cedar")}, {"name", "cedar"}}}};
}

json coupling_json(const PipelineMember& member, const Pipeline& pipeline) {
  return {{"id", member.coupling.id},
          {"app", {{"id", member.app_id}, {"name", member.app}}},
          // The name too: the heroku CLI's apps:info and pipelines:promote print it.
          {"pipeline", {{"id", pipeline.id}, {"name", pipeline.name}}},
          {"stage", to_string(member.coupling.stage)},
          {"created_at", time_json(member.coupling.created_at)},
          {"updated_at", time_json(member.coupling.updated_at)}};
}

json promotion_json(const Promotion& promotion) {
  ops::AppRef source{.name = promotion.source_app, .id = promotion.source_app_id};
  return {{"id", promotion.id},
          {"pipeline", {{"id", promotion.pipeline_id}}},
          {"source",
           {{"app", {{"id", source.id}}},
            {"release", {{"id", release_id(source, promotion.source_version)}}}}},
          {"status", promotion.status()},
          {"created_at", time_json(promotion.created_at)},
          {"updated_at", time_json(promotion.updated_at)}};
}

json promotion_target_json(const Promotion& promotion, const PromotionTarget& target) {
  ops::AppRef app{.name = target.app, .id = target.app_id};
  return {
      {"id", target.id},
      {"app", {{"id", target.app_id}}},
      {"status", target.status},
      {"error_message", target.error_message.empty() ? json(nullptr) : json(target.error_message)},
      {"pipeline_promotion", {{"id", promotion.id}}},
      {"release", target.version ? json{{"id", release_id(app, *target.version)}} : json(nullptr)}};
}

json test_run_json(const Layout& layout, const Config& config, const TestRun& run) {
  return {{"id", run.id},
          {"number", run.number},
          {"status", run.status},
          {"message", run.message.empty() ? json(nullptr) : json(run.message)},
          {"commit_sha", run.commit},
          {"commit_branch", run.branch},
          {"commit_message", ""}, // not recorded with the run
          {"created_at", time_json(run.created_at)},
          {"updated_at", time_json(run.updated_at)},
          {"pipeline", run.pipeline_id.empty() ? json(nullptr) : json{{"id", run.pipeline_id}}},
          {"app_setup", nullptr},
          {"organization", nullptr},
          {"user", user_json(layout, config, run.actor.empty() ? "slipway" : run.actor)},
          {"debug", false},
          {"clear_cache", false},
          {"source_blob_url", nullptr}};
}

std::string test_node_id(const TestRun& run, int index) {
  return derived_uuid(run.id, fmt::format("test node {}", index));
}

json test_node_json(const TestRun& run, const TestNode& node, const std::string& output_stream_url,
                    const std::string& setup_stream_url) {
  return {{"id", test_node_id(run, node.index)},
          {"index", node.index},
          {"status", node.status},
          {"exit_code", node.exit_code ? json(*node.exit_code) : json(nullptr)},
          {"error_status", node.status == "errored" ? json(node.message) : json(nullptr)},
          {"message", node.message.empty() ? json(nullptr) : json(node.message)},
          {"output_stream_url", output_stream_url},
          {"setup_stream_url", setup_stream_url},
          {"test_run", {{"id", run.id}}},
          {"dyno", nullptr},
          {"created_at", time_json(run.created_at)},
          {"updated_at", time_json(run.updated_at)}};
}

json authorization_json(const Layout& layout, const Config& config,
                        const Authorization& authorization) {
  json expires_in = nullptr;
  if (authorization.expires_at) {
    expires_in =
        std::max<long long>(0, std::chrono::duration_cast<std::chrono::seconds>(
                                   *authorization.expires_at - std::chrono::system_clock::now())
                                   .count());
  }
  return {
      {"id", authorization.id},
      {"description", authorization.description},
      {"scope", json::array({"global"})},
      {"created_at", time_json(authorization.created_at)},
      {"updated_at", time_json(authorization.created_at)},
      {"expires_at",
       authorization.expires_at ? time_json(*authorization.expires_at) : json(nullptr)},
      {"access_token", {{"id", authorization.id}, {"expires_in", expires_in}, {"token", nullptr}}},
      {"client", nullptr},
      {"grant", nullptr},
      {"refresh_token", nullptr},
      {"session", nullptr},
      {"user", user_json(layout, config, authorization.key)}};
}

std::string size_name(const ops::ProcessSize& size) {
  return format_size(size.memory);
}

} // namespace slipway::api
