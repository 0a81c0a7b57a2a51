#include "runtime/apps.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>

#include "common/file_lock.hpp"
#include "common/files.hpp"
#include "common/random.hpp"
#include "common/stamped_cache.hpp"
#include "common/time.hpp"
#include "common/tree.hpp"
#include "compiler/procfile.hpp"
#include "runtime/app_name.hpp"
#include "runtime/deploy_lock.hpp"
#include "runtime/release.hpp"
#include "runtime/retention.hpp"

namespace slipway {

namespace fs = std::filesystem;

std::string app_host(const Config& config, std::string_view app) {
  return fmt::format("{}.{}", app, config.server.domain);
}

std::string app_url(const Config& config, std::string_view app) {
  return config.server.http_port == 80
             ? fmt::format("http://{}", app_host(config, app))
             : fmt::format("http://{}:{}", app_host(config, app), config.server.http_port);
}

Expected<void> create_app(const Layout& layout, const std::string& name) {
  TRY(validate_new_app_name(name));
  std::error_code ec;
  fs::create_directories(layout.apps_dir(), ec);
  if (::mkdir(layout.app_dir(name).c_str(), 0755) != 0) {
    if (errno == EEXIST) {
      return fail_as(ErrorKind::conflict, "app '{}' already exists", name);
    }
    return fail("cannot create '{}': {}", layout.app_dir(name).string(), errno_text(errno));
  }
  fs::create_directories(layout.cache_dir(name), ec);
  fs::create_directories(layout.releases_dir(name), ec);
  if (ec) {
    return fail("cannot create '{}': {}", layout.app_dir(name).string(), ec.message());
  }
  auto config = TRY(layout.config());
  TRY(app_identity(layout, config, name));
  // app.toml last: an app dir without it is a creation that did not finish.
  return write_file_atomic(layout.app_file(name),
                           fmt::format("id = \"{}\"\ncreated_at = {}\n", TRY(random_uuid()),
                                       format_time(std::chrono::system_clock::now())));
}

namespace {

// The uid in apps/APP/uid, if the file holds one.
std::optional<int> recorded_uid(const fs::path& file) {
  auto text = read_file(file);
  if (!text) {
    return std::nullopt;
  }
  int uid = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), uid);
  if (ec != std::errc() || uid <= 0 || (end != text->data() + text->size() && *end != '\n')) {
    return std::nullopt;
  }
  return uid;
}

} // namespace

Owner build_identity(const Config& config) {
  auto id = static_cast<uid_t>(config.runtime.uid_min);
  return {id, id};
}

Expected<Owner> app_identity(const Layout& layout, const Config& config, const std::string& app) {
  auto usable = [&](int uid) -> Expected<Owner> {
    if (uid <= config.runtime.uid_min || uid > config.runtime.uid_max) {
      return fail("'{}' holds uid {}, outside [runtime] uid_range {}-{}",
                  layout.uid_file(app).string(), uid, config.runtime.uid_min,
                  config.runtime.uid_max);
    }
    return Owner{static_cast<uid_t>(uid), static_cast<gid_t>(uid)};
  };
  if (auto uid = recorded_uid(layout.uid_file(app))) {
    return usable(*uid);
  }
  auto lock = TRY(FileLock::acquire(layout.uids_lock(), FileLock::Mode::exclusive));
  if (auto uid = recorded_uid(layout.uid_file(app))) {
    return usable(*uid);
  }
  // Every app dir counts, finished or not: a creation under way already holds its uid.
  std::set<int> taken;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(layout.apps_dir(), ec)) {
    if (auto uid = recorded_uid(entry.path() / "uid")) {
      taken.insert(*uid);
    }
  }
  for (int uid = config.runtime.uid_min + 1; uid <= config.runtime.uid_max; ++uid) {
    if (!taken.contains(uid)) {
      TRY(write_file_atomic(layout.uid_file(app), fmt::format("{}\n", uid)));
      return usable(uid);
    }
  }
  return fail("no uid left for '{}' in [runtime] uid_range {}-{}", app, config.runtime.uid_min,
              config.runtime.uid_max);
}

Expected<void> check_root(const Layout& layout) {
  std::error_code ec;
  auto status = fs::status(layout.root(), ec);
  if (!fs::exists(status)) {
    return fail("'{}' does not exist (create it with: slipway --root {} init)",
                layout.root().string(), layout.root().string());
  }
  if (!fs::is_directory(status) || !fs::is_directory(layout.apps_dir(), ec)) {
    return fail("'{}' is not a slipway root (it has no apps/; create one with: slipway --root "
                "DIR init)",
                layout.root().string());
  }
  return {};
}

std::vector<std::string> list_apps(const Layout& layout) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(layout.apps_dir(), ec)) {
    std::string name = entry.path().filename().string();
    if (validate_app_name(name) && fs::exists(layout.app_file(name), ec)) {
      names.push_back(name);
    }
  }
  std::ranges::sort(names);
  return names;
}

Expected<void> require_app(const Layout& layout, const std::string& name) {
  TRY(validate_app_name(name));
  std::error_code ec;
  if (!fs::exists(layout.app_file(name), ec)) {
    TRY(check_root(layout));
    return fail_as(ErrorKind::not_found, "app '{}' does not exist", name);
  }
  return {};
}

std::vector<std::string> deploy_branches(const Config& config, const AppInfo& info) {
  if (!info.deploy_branch.empty()) {
    return {info.deploy_branch};
  }
  if (!config.server.deploy_branch.empty()) {
    return {config.server.deploy_branch};
  }
  return {"main", "master"};
}

int default_scale(std::string_view type) {
  return type == "web" ? 1 : 0;
}

std::vector<std::pair<std::string, int>>
process_counts(const std::map<std::string, int>& formation,
               const std::vector<std::pair<std::string, std::string>>& types) {
  std::vector<std::pair<std::string, int>> counts;
  for (const auto& [type, command] : types) {
    auto it = formation.find(type);
    counts.emplace_back(type, it != formation.end() ? it->second : default_scale(type));
  }
  return counts;
}

namespace {

Expected<void> read_formation(const toml::table& table, const std::string& origin, AppInfo& info) {
  const toml::node* node = table.get("formation");
  if (!node) {
    return {};
  }
  const toml::table* formation = node->as_table();
  if (!formation) {
    return fail("{}: 'formation' must be a table of process type = count", origin);
  }
  for (const auto& [type, count] : *formation) {
    auto value = count.value_exact<int64_t>();
    if (!is_process_type_name(type.str()) || !value || *value < 0 || *value > k_max_scale) {
      return fail("{}: formation.{} must be a count from 0 to {}", origin, type.str(), k_max_scale);
    }
    info.formation[std::string(type.str())] = static_cast<int>(*value);
  }
  return {};
}

Expected<void> read_domains(const toml::table& table, const std::string& origin, AppInfo& info) {
  const toml::node* node = table.get("domains");
  if (!node) {
    return {};
  }
  const toml::array* domains = node->as_array();
  if (!domains) {
    return fail("{}: 'domains' must be a list of host names", origin);
  }
  for (const auto& entry : *domains) {
    auto host = entry.value_exact<std::string>();
    if (!host || !validate_domain(*host)) {
      return fail("{}: 'domains' holds an invalid host name", origin);
    }
    info.domains.push_back(*host);
  }
  return {};
}

Expected<void> read_access(const toml::table& table, const std::string& origin, AppInfo& info) {
  const toml::node* node = table.get("access");
  if (!node) {
    return {};
  }
  const toml::array* names = node->as_array();
  if (!names) {
    return fail("{}: 'access' must be a list of key names", origin);
  }
  for (const auto& entry : *names) {
    auto name = entry.value_exact<std::string>();
    bool valid = name && !name->empty() && name->size() <= 32 && (*name)[0] >= 'a' &&
                 (*name)[0] <= 'z' && std::ranges::all_of(*name, [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
                 });
    if (!valid) {
      return fail("{}: 'access' holds an invalid key name", origin);
    }
    info.access.push_back(*name);
  }
  return {};
}

Expected<void> read_coupling(const toml::table& table, const std::string& origin, AppInfo& info) {
  const toml::node* node = table.get("pipeline");
  if (!node) {
    return {};
  }
  const toml::table* coupling = node->as_table();
  auto string_of = [&](std::string_view key) {
    return coupling
               ? coupling->get(key) ? coupling->get(key)->value_exact<std::string>() : std::nullopt
               : std::nullopt;
  };
  auto time_of = [&](std::string_view key) -> std::optional<TimePoint> {
    const toml::node* time = coupling ? coupling->get(key) : nullptr;
    auto value = time ? time->value_exact<toml::date_time>() : std::nullopt;
    return value ? std::optional(from_toml_time(*value)) : std::nullopt;
  };
  auto id = string_of("id");
  auto pipeline = string_of("pipeline");
  auto stage_name = string_of("stage");
  std::optional<Stage> stage;
  if (stage_name) {
    if (auto parsed = parse_stage(*stage_name)) {
      stage = *parsed;
    }
  }
  auto created = time_of("created_at");
  auto updated = time_of("updated_at");
  if (!coupling || coupling->size() != 5 || !id || !is_uuid(*id) || !pipeline ||
      !is_uuid(*pipeline) || !stage || !created || !updated) {
    return fail("{}: [pipeline] must hold id and pipeline (UUIDs), stage (review, development, "
                "staging or production), created_at and updated_at",
                origin);
  }
  info.coupling = PipelineCoupling{.id = *id,
                                   .pipeline = *pipeline,
                                   .stage = *stage,
                                   .created_at = *created,
                                   .updated_at = *updated};
  return {};
}

// [review]: what makes the app a review app.
Expected<void> read_review(const toml::table& table, const std::string& origin, AppInfo& info) {
  const toml::node* node = table.get("review");
  if (!node) {
    return {};
  }
  const toml::table* review = node->as_table();
  auto string_of = [&](std::string_view key) -> std::optional<std::string> {
    const toml::node* value = review ? review->get(key) : nullptr;
    return value ? value->value_exact<std::string>() : std::nullopt;
  };
  const toml::node* pushed = review ? review->get("pushed_at") : nullptr;
  auto pushed_at = pushed ? pushed->value_exact<toml::date_time>() : std::nullopt;
  auto branch = string_of("branch");
  auto parent = string_of("parent");
  auto commit = string_of("commit");
  auto status = string_of("status");
  auto last_build = string_of("last_build");
  auto message = string_of("message");
  const toml::node* number = review ? review->get("pull_request") : nullptr;
  auto pull_request = number ? number->value_exact<std::int64_t>() : std::optional<std::int64_t>(0);
  if (!review || review->size() != (number ? 8u : 7u) || !pull_request || *pull_request < 0 ||
      *pull_request > 1'000'000'000 || !branch || !is_branch_name(*branch) || !parent ||
      !validate_app_name(*parent) || !commit || (!commit->empty() && !is_commit_id(*commit)) ||
      !pushed_at || !status || (*status != "creating" && *status != "created") || !last_build ||
      (*last_build != "" && *last_build != "succeeded" && *last_build != "failed") || !message) {
    return fail("{}: [review] must hold branch (a branch name), parent (an app name), commit "
                "(40 hex digits or \"\"), pushed_at, status (creating or created), last_build "
                "(succeeded, failed or \"\") and message, and may hold pull_request (a number)",
                origin);
  }
  info.review = ReviewOrigin{.branch = *branch,
                             .parent = *parent,
                             .commit = *commit,
                             .pushed_at = from_toml_time(*pushed_at),
                             .status = *status,
                             .last_build = *last_build,
                             .message = *message,
                             .pull_request = static_cast<int>(*pull_request)};
  return {};
}

} // namespace

namespace {

Expected<AppInfo> read_app_info(const Layout& layout, const std::string& name);

// Parsed app.toml files, while each is the same file (save_app_info replaces it whole).
StampedCache<AppInfo>& app_info_cache() {
  static StampedCache<AppInfo> cache(1024);
  return cache;
}

} // namespace

Expected<AppInfo> app_info(const Layout& layout, const std::string& name) {
  TRY(require_app(layout, name));
  auto stamp = file_stamp(layout.app_file(name));
  if (auto cached = stamp ? app_info_cache().find(layout.app_file(name), *stamp) : std::nullopt) {
    return std::move(*cached);
  }
  auto info = read_app_info(layout, name);
  if (info && stamp) {
    app_info_cache().keep(layout.app_file(name), *stamp, *info);
  }
  return info;
}

namespace {

Expected<AppInfo> read_app_info(const Layout& layout, const std::string& name) {
  auto text = TRY(read_file(layout.app_file(name)));
  AppInfo info{.name = name};
  std::string origin = layout.app_file(name).string();
  try {
    auto table = toml::parse(text, origin);
    for (const auto& [key, value] : table) {
      if (key.str() != "id" && key.str() != "created_at" && key.str() != "deploy_branch" &&
          key.str() != "formation" && key.str() != "domains" && key.str() != "access" &&
          key.str() != "maintenance" && key.str() != "promotion_only" && key.str() != "pipeline" &&
          key.str() != "ci" && key.str() != "wait_for_ci" && key.str() != "review" &&
          key.str() != "scheduler") {
        return fail("{}: unknown key '{}'", origin, key.str());
      }
    }
    auto created = table["created_at"].value_exact<toml::date_time>();
    if (!created) {
      return fail("{}: 'created_at' must be a date-time", origin);
    }
    info.created_at = from_toml_time(*created);
    if (const toml::node* id = table.get("id")) {
      auto value = id->value_exact<std::string>();
      if (!value || !is_uuid(*value)) {
        return fail("{}: 'id' must be a UUID", origin);
      }
      info.id = *value;
    } else {
      // An app created before apps had ids: one derived from what identifies it.
      info.id = derived_uuid(layout.id(), fmt::format("{}@{}", name, format_time(info.created_at)));
    }
    if (const toml::node* branch = table.get("deploy_branch")) {
      auto value = branch->value_exact<std::string>();
      if (!value || !is_branch_name(*value)) {
        return fail("{}: 'deploy_branch' must be a branch name such as \"main\"", origin);
      }
      info.deploy_branch = *value;
    }
    if (const toml::node* maintenance = table.get("maintenance")) {
      auto value = maintenance->value_exact<bool>();
      if (!value) {
        return fail("{}: 'maintenance' must be true or false", origin);
      }
      info.maintenance = *value;
    }
    for (auto [key, field] : {std::pair{"promotion_only", &info.promotion_only},
                              {"ci", &info.ci},
                              {"wait_for_ci", &info.wait_for_ci}}) {
      if (const toml::node* node = table.get(key)) {
        auto value = node->value_exact<bool>();
        if (!value) {
          return fail("{}: '{}' must be true or false", origin, key);
        }
        *field = *value;
      }
    }
    if (const toml::node* scheduler = table.get("scheduler")) {
      auto value = scheduler->value_exact<std::string>();
      auto engine = value ? parse_engine(*value) : fail("it is not a string");
      if (!engine) {
        return fail("{}: 'scheduler': {}", origin, engine.error().message);
      }
      info.scheduler = *engine;
    }
    TRY(read_coupling(table, origin, info));
    TRY(read_review(table, origin, info));
    TRY(read_formation(table, origin, info));
    TRY(read_domains(table, origin, info));
    TRY(read_access(table, origin, info));
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt: {}", layout.app_file(name).string(), error.description());
  }
  return info;
}

} // namespace

Engine app_engine(const Config& config, const AppInfo& info) {
  return info.scheduler.value_or(config.scheduler.engine);
}

Expected<void> save_app_info(const Layout& layout, const AppInfo& info) {
  toml::table table;
  table.insert("id", info.id);
  table.insert("created_at", to_toml_time(info.created_at));
  if (!info.deploy_branch.empty()) {
    table.insert("deploy_branch", info.deploy_branch);
  }
  if (info.maintenance) {
    table.insert("maintenance", true);
  }
  for (auto [key, value] : {std::pair{"promotion_only", info.promotion_only},
                            {"ci", info.ci},
                            {"wait_for_ci", info.wait_for_ci}}) {
    if (value) {
      table.insert(key, true);
    }
  }
  if (info.scheduler) {
    table.insert("scheduler", std::string(to_string(*info.scheduler)));
  }
  if (info.coupling) {
    table.insert("pipeline", toml::table{{"id", info.coupling->id},
                                         {"pipeline", info.coupling->pipeline},
                                         {"stage", std::string(to_string(info.coupling->stage))},
                                         {"created_at", to_toml_time(info.coupling->created_at)},
                                         {"updated_at", to_toml_time(info.coupling->updated_at)}});
  }
  if (const auto& review = info.review) {
    toml::table origin{{"branch", review->branch},  {"parent", review->parent},
                       {"commit", review->commit},  {"pushed_at", to_toml_time(review->pushed_at)},
                       {"status", review->status},  {"last_build", review->last_build},
                       {"message", review->message}};
    if (review->pull_request > 0) {
      origin.insert("pull_request", static_cast<std::int64_t>(review->pull_request));
    }
    table.insert("review", std::move(origin));
  }
  if (!info.domains.empty()) {
    toml::array domains;
    for (const auto& host : info.domains) {
      domains.push_back(host);
    }
    table.insert("domains", std::move(domains));
  }
  if (!info.access.empty()) {
    toml::array access;
    for (const auto& name : info.access) {
      access.push_back(name);
    }
    table.insert("access", std::move(access));
  }
  if (!info.formation.empty()) {
    toml::table formation;
    for (const auto& [type, count] : info.formation) {
      formation.insert(type, count);
    }
    table.insert("formation", std::move(formation));
  }
  std::ostringstream out;
  out << table << "\n";
  return write_file_atomic(layout.app_file(info.name), out.str());
}

Expected<void> destroy_app(const Layout& layout, const Config& config, const std::string& name) {
  TRY(require_app(layout, name));
  auto lock = TRY(lock_app(layout, name, true, {}));
  // Out of apps/ in one rename, then gone: a crash midway leaves no half app behind.
  fs::path doomed = layout.apps_dir() / fmt::format(".destroyed-{}-{}", name, getpid());
  TRY(rename_durable(layout.app_dir(name), doomed));
  [[maybe_unused]] auto removed = remove_tree(doomed);
  TRY(prune_slugs(layout, config));
  return {};
}

} // namespace slipway
