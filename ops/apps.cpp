#include "ops/apps.hpp"

#include <algorithm>

#include <fmt/ranges.h>

#include "common/file_lock.hpp"
#include "common/files.hpp"
#include "common/output.hpp"
#include "common/paths.hpp"
#include "common/random.hpp"
#include "ops/rights.hpp"
#include "ops/settings.hpp"
#include "runtime/app_name.hpp"
#include "runtime/apps.hpp"
#include "runtime/deploy_lock.hpp"
#include "runtime/events.hpp"
#include "runtime/pipelines.hpp"
#include "runtime/release_store.hpp"
#include "runtime/repo.hpp"

namespace slipway::ops {

namespace fs = std::filesystem;

Expected<std::vector<std::string>> list_apps(const Context& context) {
  TRY(authorize(context, "apps"));
  TRY(check_root(context.layout));
  auto names = slipway::list_apps(context.layout);
  std::erase_if(names, [&](const std::string& app) { return !may_access(context, app); });
  return names;
}

namespace {

// The app's directory and repository, and the event. A partly created app (a crash, a full
// disk) is completed by creating it again.
Expected<void> make_app(const Context& context, const std::string& app) {
  TRY(slipway::create_app(context.layout, app));
  TRY(create_repo(context.layout, app, self_executable()));
  record(
      context,
      {.app = app, .resource = "app", .action = "created", .data = {{"message", "App created"}}});
  return {};
}

} // namespace

Expected<void> create_app(const Context& context, const CreateApp& request) {
  TRY(authorize(context, "apps:create"));
  TRY(validate_new_app_name(request.name));
  return make_app(context, request.name);
}

Expected<AppSummary> app_summary(const Context& context, const std::string& app) {
  TRY(authorize(context, "apps:info", app));
  auto info = TRY(app_info(context.layout, app));
  ReleaseStore store(context.layout, app);
  AppSummary summary{.name = app,
                     .id = info.id,
                     .created_at = info.created_at,
                     .url = app_url(context.config, app),
                     .releases = store.list().size(),
                     .live = store.live_version(),
                     .maintenance = info.maintenance,
                     .promotion_only = info.promotion_only,
                     .ci = info.ci,
                     .wait_for_ci = info.wait_for_ci,
                     .deploy_branches = deploy_branches(context.config, info),
                     .scheduler = std::string(to_string(app_engine(context.config, info)))};
  if (auto member = pipeline_member(context.layout, app); member && *member) {
    auto pipeline = slipway::find_pipeline(context.layout, (*member)->coupling.pipeline);
    summary.pipeline = pipeline ? pipeline->name : "";
    summary.stage = to_string((*member)->coupling.stage);
  }
  if (auto live = store.live(); live && *live) {
    summary.released_at = (*live)->created_at;
    summary.stack = (*live)->stack;
    summary.buildpacks = (*live)->buildpacks;
    std::error_code ec;
    if (!(*live)->slug_file.empty()) {
      auto size = fs::file_size(context.layout.slugs_dir() / (*live)->slug_file, ec);
      summary.slug_size = ec ? 0 : size;
    }
  }
  return summary;
}

Expected<AppRef> find_app(const Context& context, std::string_view name_or_id) {
  if (is_uuid(name_or_id)) {
    for (const auto& app : TRY(list_apps(context))) {
      if (auto info = app_info(context.layout, app); info && info->id == name_or_id) {
        return AppRef{.name = app, .id = info->id};
      }
    }
    return fail_as(ErrorKind::not_found, "no app has the id '{}'", name_or_id);
  }
  std::string name(name_or_id.substr(0, 64));
  TRY(authorize(context, "apps:info", name));
  auto info = TRY(app_info(context.layout, name));
  return AppRef{.name = name, .id = info.id};
}

Expected<void> destroy_app(const Context& context, const DestroyApp& request) {
  TRY(authorize(context, "apps:destroy"));
  if (request.confirm != request.name) {
    return usage_error("--confirm '{}' does not match the app name '{}'", request.confirm,
                       request.name);
  }
  TRY(require_app(context.layout, request.name));
  TRY(slipway::destroy_app(context.layout, context.config, request.name));
  TRY(remove_repo(context.layout, request.name));
  // Its log went with it: the event is the stream's only record.
  record(context, {.resource = "app",
                   .action = "destroyed",
                   .data = {{"app", request.name}, {"message", "App destroyed"}}});
  return tell_daemon(context, request.name);
}

Expected<void> rename_app(const Context& context, const RenameApp& request) {
  TRY(authorize(context, "apps:rename"));
  TRY(validate_app_name(request.from));
  TRY(validate_new_app_name(request.to));
  if (request.from == request.to) {
    return usage_error("the app is already called {}", request.to);
  }
  const Layout& layout = context.layout;
  std::error_code ec;
  // Directory first, repository second. A rename cut short between the two (a crash, a
  // full disk) left apps/TO beside repos/FROM.git: this finishes it.
  bool resumed =
      !fs::exists(layout.app_dir(request.from), ec) && fs::exists(layout.app_dir(request.to), ec) &&
      fs::exists(layout.repo_dir(request.from), ec) && !fs::exists(layout.repo_dir(request.to), ec);
  if (!resumed) {
    TRY(require_app(layout, request.from));
    if (fs::exists(layout.app_dir(request.to), ec) || fs::exists(layout.repo_dir(request.to), ec)) {
      return fail("app '{}' already exists", request.to);
    }
    // No deploy, config change or scaling of the app is under way while it moves (the lock
    // file moves with it), and no domain is claimed meanwhile: TO.DOMAIN becomes its own.
    auto domains = TRY(FileLock::acquire(layout.domains_lock(), FileLock::Mode::exclusive));
    auto lock = TRY(lock_app(layout, request.from, context.wait, context.on_output));
    if (auto owner = host_owner(layout, context.config, app_host(context.config, request.to));
        owner && *owner != request.to) {
      return fail("{} is a domain of app '{}'", app_host(context.config, request.to), *owner);
    }
    TRY(rename_durable(layout.app_dir(request.from), layout.app_dir(request.to)));
  }
  TRY(rename_durable(layout.repo_dir(request.from), layout.repo_dir(request.to)));
  record(context, {.app = request.to,
                   .resource = "app",
                   .action = "renamed",
                   .data = {{"from", request.from},
                            {"message", fmt::format("Renamed from {}", request.from)}}});
  // The old name's processes stop and its route goes; the new name's start.
  TRY(tell_daemon(context, request.from));
  return tell_daemon(context, request.to);
}

Expected<AppSummary> set_app(const Context& context, const SetApp& request) {
  TRY(authorize(context, "apps:set", request.app));
  if (request.settings.empty()) {
    return usage_error("name a setting: promotion_only=true|false, deploy_branch=BRANCH");
  }
  // Each setting checked before any is applied.
  std::optional<bool> promotion_only;
  std::optional<bool> ci;
  std::optional<bool> wait_for_ci;
  std::optional<std::string> deploy_branch;
  std::optional<std::optional<Engine>> scheduler; // set to none: the server's engine
  for (const auto& [name, value] : request.settings) {
    if (name == "promotion_only" || name == "ci" || name == "wait_for_ci") {
      if (value != "true" && value != "false") {
        return usage_error("{} must be true or false, not '{}'", name, printable(value));
      }
      (name == "ci" ? ci : name == "wait_for_ci" ? wait_for_ci : promotion_only) = value == "true";
    } else if (name == "deploy_branch") {
      if (!value.empty() && !is_branch_name(value)) {
        return usage_error("deploy_branch must be a branch name such as main, not '{}'",
                           printable(value));
      }
      deploy_branch = value;
    } else if (name == "scheduler") {
      if (value.empty()) {
        scheduler.emplace(std::nullopt);
      } else if (auto engine = parse_engine(value)) {
        scheduler = *engine;
      } else {
        return usage_error("scheduler: {}", engine.error().message);
      }
    } else {
      return usage_error("unknown app setting '{}' (use promotion_only, ci, wait_for_ci, "
                         "deploy_branch or scheduler)",
                         printable(name));
    }
  }
  if (promotion_only.value_or(false)) {
    auto member = TRY(pipeline_member(context.layout, request.app));
    if (!member || member->coupling.stage != Stage::production) {
      return usage_error("promotion_only is for the production apps of a pipeline; '{}' is {}",
                         request.app,
                         member ? fmt::format("in the {} stage", to_string(member->coupling.stage))
                                : std::string("not in a pipeline"));
    }
  }
  {
    auto lock = TRY(lock_app(context.layout, request.app, context.wait, context.on_output));
    auto info = TRY(app_info(context.layout, request.app));
    std::vector<std::string> changes;
    if (promotion_only && info.promotion_only != *promotion_only) {
      info.promotion_only = *promotion_only;
      changes.push_back(fmt::format("promotion_only={}", *promotion_only));
    }
    for (auto [name, asked, field] :
         {std::tuple{"ci", ci, &info.ci}, {"wait_for_ci", wait_for_ci, &info.wait_for_ci}}) {
      if (asked && *field != *asked) {
        *field = *asked;
        changes.push_back(fmt::format("{}={}", name, *asked));
      }
    }
    if (deploy_branch && info.deploy_branch != *deploy_branch) {
      info.deploy_branch = *deploy_branch;
      changes.push_back(fmt::format("deploy_branch={}", *deploy_branch));
    }
    bool moves = false; // the live release goes to another engine
    if (scheduler && info.scheduler != *scheduler) {
      Engine before = app_engine(context.config, info);
      info.scheduler = *scheduler;
      moves = app_engine(context.config, info) != before;
      changes.push_back(fmt::format("scheduler={}", *scheduler ? to_string(**scheduler) : ""));
    }
    if (moves && app_engine(context.config, info) == Engine::swarm &&
        context.config.scheduler.registry.empty()) {
      return usage_error("scheduler=swarm needs [scheduler] registry in slipway.toml: the "
                         "swarm's nodes pull the app's images from it");
    }
    if (!changes.empty()) {
      TRY(save_app_info(context.layout, info));
      nlohmann::json data = {{"message", fmt::format("Set {}", fmt::join(changes, ", "))}};
      if (promotion_only) {
        data["promotion_only"] = info.promotion_only;
      }
      if (deploy_branch) {
        data["deploy_branch"] = info.deploy_branch;
      }
      if (scheduler) {
        data["scheduler"] = std::string(to_string(app_engine(context.config, info)));
      }
      record(context,
             {.app = request.app, .resource = "app", .action = "updated", .data = std::move(data)});
      if (moves) {
        // The daemon starts the live release on the other engine, switches the router to
        // it once it is healthy, and stops what ran before.
        TRY(tell_daemon(context, request.app));
      }
    }
  }
  return app_summary(context, request.app);
}

Expected<std::filesystem::path> open_repository(const Context& context, const GitAccess& request) {
  std::string_view operation = request.push ? "git-receive-pack" : "git-upload-pack";
  TRY(validate_app_name(request.app));
  bool exists = static_cast<bool>(require_app(context.layout, request.app));
  if (!exists && request.push && context.actor.admin) {
    TRY(make_app(context, request.app));
    context.on_output(fmt::format("-----> Created app {}", request.app));
  } else if (!exists && request.push) {
    return fail("app '{}' does not exist, and only an admin key may create apps by pushing",
                request.app);
  } else {
    TRY(authorize(context, operation, request.app));
  }
  return context.layout.repo_dir(request.app);
}

} // namespace slipway::ops
