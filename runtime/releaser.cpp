#include "runtime/releaser.hpp"

#include <algorithm>
#include <unistd.h>

#include <fmt/ranges.h>

#include "common/files.hpp"
#include "common/output.hpp"
#include "common/sandbox.hpp"
#include "common/scratch_dir.hpp"
#include "common/slug.hpp"
#include "common/tree.hpp"
#include "compiler/app_manifest.hpp"
#include "compiler/compile.hpp"
#include "compiler/release_yaml.hpp"
#include "runtime/apps.hpp"
#include "runtime/build_cache.hpp"
#include "runtime/first_deploy.hpp"
#include "runtime/pipelines.hpp"
#include "runtime/release_store.hpp"
#include "runtime/slug_store.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

Release draft(const ReleaseContext& context, std::string description) {
  Release release;
  release.description = std::move(description);
  release.created_at = std::chrono::system_clock::now();
  release.user = context.user;
  return release;
}

// Carries what runs (slug, process types, ...) from `from` into `to`.
void copy_code(const Release& from, Release& to) {
  to.commit = from.commit;
  to.slug = from.slug;
  to.slug_file = from.slug_file;
  to.buildpacks = from.buildpacks;
  to.stack = from.stack;
  to.release_command = from.release_command;
  to.process_types = from.process_types;
}

Expected<void> write_env_dir(const fs::path& dir, const ConfigVars& config) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const auto& [name, value] : config) {
    TRY(write_file_atomic(dir / name, value, 0600));
  }
  return {};
}

} // namespace

std::string display_status(const Layout& layout, const Release& release) {
  if (release.status == ReleaseStatus::succeeded && release.has_slug() &&
      !SlugStore(layout).has(release)) {
    return "expired";
  }
  return std::string(to_string(release.status));
}

namespace {

// app.json's formation, on the first deploy: the initial count of each process type the
// release has (after this, ps:scale owns it); the types it lacks are said and skipped.
Expected<void> apply_formation(const ReleaseContext& context, Operation& operation,
                               const AppJson& manifest, const Release& release) {
  auto info = TRY(app_info(context.layout, context.app));
  nlohmann::json formation = nlohmann::json::object();
  std::vector<std::string> summary;
  for (const FormationSpec& spec : manifest.formation) {
    bool declared = std::ranges::any_of(
        release.process_types, [&](const auto& entry) { return entry.first == spec.type; });
    if (!declared) {
      context.on_output(detail_line(fmt::format(
          "app.json: formation.{} ignored: the app has no {} process type", spec.type, spec.type)));
      continue;
    }
    info.formation[spec.type] = spec.quantity;
    formation[spec.type] = spec.quantity;
    summary.push_back(fmt::format("{}@{}", spec.type, spec.quantity));
  }
  if (summary.empty()) {
    return {};
  }
  TRY(save_app_info(context.layout, info));
  std::string message = fmt::format("Scaled to {} (app.json formation)", fmt::join(summary, ", "));
  context.on_output(step_line(message));
  operation.record("formation", "changed", {{"formation", formation}, {"message", message}});
  return {};
}

// Runs app.json's script `name` after `release` went live; its failure is said and recorded.
void run_script(const ReleaseContext& context, Operation& operation, const Release& release,
                const std::string& name, const std::string& command) {
  auto ran = operation.run_postdeploy(release, name, command);
  nlohmann::json data = {{"version", release.version}, {"script", name}};
  if (!ran) {
    data["reason"] = ran.error().message;
  }
  operation.record("release", ran ? "script_succeeded" : "script_failed", data);
  if (!ran) {
    context.on_output(failure_line(
        fmt::format("{} failed: {}; v{} stays live", name, ran.error().message, release.version)));
  }
}

// A succeeded release, with its slug still stored, that was built from `commit`.
struct BuiltRelease {
  std::string app;
  Release release;
};

// Releases built from `commit` that may lend their slug to a build of it for `app`: the
// app's own, then those of the other apps of its pipeline, newest first. Promoted releases
// are left out: the release their slug was built in is named instead.
std::vector<BuiltRelease>
releases_built_from(const ReleaseContext& context, const std::string& commit,
                    const std::function<bool(const std::string& app)>& may_reuse_slug_of) {
  std::vector<std::string> apps = {context.app};
  if (auto member = pipeline_member(context.layout, context.app); member && *member) {
    for (const auto& other : pipeline_members(context.layout, (*member)->coupling.pipeline)) {
      if (other.app != context.app && may_reuse_slug_of(other.app)) {
        apps.push_back(other.app);
      }
    }
  }
  std::vector<BuiltRelease> found;
  SlugStore slugs(context.layout);
  for (const auto& app : apps) {
    auto releases = ReleaseStore(context.layout, app).list();
    for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
      if (it->commit == commit && it->status == ReleaseStatus::succeeded && !it->promoted_from &&
          it->has_slug() && slugs.has(*it)) {
        found.push_back({app, std::move(*it)});
      }
    }
  }
  return found;
}

} // namespace

Expected<void> check_direct_deploy(const ReleaseContext& context) {
  auto refusal = direct_deploy_refusal(context.layout, context.app);
  if (!refusal) {
    return {};
  }
  Event event{.app = context.app,
              .resource = "release",
              .action = "refused",
              .actor = context.user.empty() ? local_actor() : context.user,
              .data = {{"reason", *refusal}, {"message", "Deploy refused: " + *refusal}}};
  if (auto recorded = record_event(context.layout, context.config, std::move(event)); !recorded) {
    context.on_output(failure_line("warning: " + recorded.error().message));
  }
  return fail_as(ErrorKind::forbidden, "{}", *refusal);
}

Expected<Release> deploy(const ReleaseContext& context, const DeployRequest& request) {
  Deadline deadline = request.deadline.value_or(Deadline(context.config.build.timeout));
  TRY(check_direct_deploy(context));
  auto operation = TRY(Operation::begin(context));
  // A build may fill the disk; what is left is for config changes and rollbacks, which
  // need little, and for other apps.
  auto free = free_disk(context.layout.app_dir(context.app));
  if (free && *free < context.config.build.min_free_disk) {
    return fail("not enough free disk space to build: {} free, a deploy needs [build] "
                "min_free_disk ({}); config changes and rollbacks still work",
                format_size(*free), format_size(context.config.build.min_free_disk));
  }
  auto live = TRY(operation.releases().live());
  ConfigVars config = live ? live->config : ConfigVars{};
  auto identity = TRY(app_identity(context.layout, context.config, context.app));
  // Scratch space under the lock, reachable by the build's uid. A build that fails is
  // cleaned up at once; a live one's goes at housekeeping when deletions are deferred.
  // The build's root holds the build dir and, during the build, the app's cache
  // (build_cache.hpp): root's, so the build's uid can use them but not replace them.
  auto scratch = TRY(ScratchDir::create(context.layout.tmp_dir(context.app), "deploy", 0711));
  fs::path build_root = scratch.path() / "root";
  fs::path build_dir = build_root / "app";
  fs::path work_dir = scratch.path() / "work";
  std::error_code ec;
  fs::create_directories(build_dir, ec);
  if (!ec) {
    fs::permissions(build_root, fs::perms(0755), ec);
  }
  if (ec) {
    return fail("cannot create '{}': {}", build_dir.string(), ec.message());
  }
  TRY(request.fill_source(build_dir));
  // The first deploy (config vars may have been set before it) sets up what app.json says.
  const bool first_deploy = !live || !live->has_slug();
  std::optional<AppJson> manifest = TRY(read_app_json(build_dir));
  if (manifest && request.review_app) {
    manifest = review_app_manifest(std::move(*manifest));
  }
  if (first_deploy) {
    for (const auto& [name, value] : request.initial_config) {
      config.try_emplace(name, value);
    }
    if (manifest) {
      auto setup = TRY(first_deploy_config(context.app, *manifest, config, generate_secret));
      std::vector<std::string> names = setup.set;
      for (const auto& name : setup.generated) {
        names.push_back(name + " (generated)");
      }
      if (!names.empty()) {
        context.on_output(step_line(
            fmt::format("Setting config vars from app.json: {}", fmt::join(names, ", "))));
      }
      config = std::move(setup.config);
    }
  }
  fs::path env_dir = work_dir / "env";
  TRY(write_env_dir(env_dir, config));
  auto cgroups =
      SandboxCgroups::create(context.layout.id(), context.app, fmt::format("build-{}", getpid()),
                             context.config.build.memory, context.config.runtime.processes);
  // A release built from this commit lends its slug when the buildpacks the build chooses
  // are the ones it was built with. A git buildpack's ref may have moved: never reused.
  std::vector<BuiltRelease> built_before;
  if (request.may_reuse_slug_of && !request.commit.empty()) {
    built_before = releases_built_from(context, request.commit, request.may_reuse_slug_of);
  }
  std::optional<BuiltRelease> lender;
  auto reuse = [&](const std::vector<UsedBuildpack>& chosen, std::string_view stack) {
    std::vector<std::string> refs;
    for (const auto& buildpack : chosen) {
      if (!buildpack.commit.empty()) {
        return false;
      }
      refs.push_back(buildpack.ref);
    }
    for (const auto& candidate : built_before) {
      if (candidate.release.buildpacks == refs && candidate.release.stack == stack) {
        lender = candidate;
        return true;
      }
    }
    return false;
  };
  auto cache = TRY(BuildCache::take(context.layout, context.app, build_root));
  auto built = compile_app(
      {.build_dir = build_dir,
       .cache_dir = cache.dir(),
       .env_dir = env_dir,
       .work_dir = work_dir,
       .build_root = build_root,
       .buildpacks = request.buildpacks.empty() && request.review_app && manifest
                         ? manifest->review.buildpacks
                         : request.buildpacks,
       .buildpacks_from_app = request.buildpacks.empty() && request.review_app,
       .source_version = request.commit,
       .on_output = context.on_output,
       .identity = identity,
       .cgroups = cgroups,
       .deadline = deadline,
       .trusted_source = request.trusted_source,
       .reuse = built_before.empty()
                    ? std::function<bool(const std::vector<UsedBuildpack>&, std::string_view)>()
                    : reuse},
      context.config);
  cgroups->remove();
  if (auto back = cache.put_back(); !back) {
    // Left where it is, for housekeeping to bring home (recover_build_cache).
    scratch.release();
    context.on_output(failure_line("warning: " + back.error().message));
  }
  if (!built) {
    return std::unexpected(built.error());
  }
  if (request.on_built) {
    request.on_built(*built);
  }

  std::string description = request.description;
  if (description.empty()) {
    description =
        request.commit.empty() ? "Deploy" : fmt::format("Deploy {}", request.commit.substr(0, 7));
  }
  Release release = draft(context, description);
  if (built->reused && lender) {
    const std::string& slug = lender->release.slug;
    context.on_output(step_line(fmt::format(
        "Reusing slug {}… from {} v{}: the same commit, buildpacks and stack; nothing to rebuild",
        slug.substr(0, 19), lender->app, lender->release.version)));
    copy_code(lender->release, release);
    release.config = config;
    release = TRY(operation.releases().create(release));
    if (first_deploy && manifest && !manifest->formation.empty()) {
      TRY(apply_formation(context, operation, *manifest, release));
    }
    return operation.publish(std::move(release), {}, request.push);
  }
  release.commit = request.commit;
  release.stack = built->stack;
  release.config = config;
  for (const auto& buildpack : built->buildpacks) {
    release.buildpacks.push_back(buildpack.ref);
  }
  for (auto& [name, command] : built->process_types) {
    if (name == "release") {
      release.release_command = command;
    } else {
      release.process_types.emplace_back(name, command);
    }
  }
  PackOptions pack{.compression = context.config.build.slug_compression,
                   .max_size = context.config.build.max_slug_size,
                   .deadline = deadline};
  auto slug =
      TRY(operation.slugs().add(build_dir, pack, [&](const SlugInfo& info) -> Expected<void> {
        release.slug = "sha256:" + info.sha256;
        release.slug_file = info.path.filename().string();
        release = TRY(operation.releases().create(release));
        return {};
      }));
  context.on_output(step_line(fmt::format("Compressing slug... done, {}", format_size(slug.size))));
  // The build dir is exactly the slug's content, and a one-off copy nobody else uses.
  if (first_deploy && manifest && !manifest->formation.empty()) {
    TRY(apply_formation(context, operation, *manifest, release));
  }
  auto published = operation.publish(std::move(release), build_dir, request.push);
  if (published && manifest) {
    // Live now: a script that fails is reported and recorded, and the release stays.
    if (first_deploy && !manifest->scripts.postdeploy.empty()) {
      run_script(context, operation, *published, "postdeploy", manifest->scripts.postdeploy);
    }
    if (!manifest->scripts.dokku_postdeploy.empty()) {
      run_script(context, operation, *published, "dokku-postdeploy",
                 manifest->scripts.dokku_postdeploy);
    }
  }
  if (published && context.defer_deletions) {
    scratch.release(); // post-receive's housekeeping removes it, off the push's path
  }
  return published;
}

Expected<std::optional<Release>> change_config(const ReleaseContext& context, const ConfigVars& set,
                                               const std::vector<std::string>& unset) {
  for (const auto& [name, value] : set) {
    if (!is_config_var_name(name)) {
      return usage_error("invalid config var name '{}' (use letters, digits and _, not "
                         "starting with a digit)",
                         printable(name));
    }
    if (!is_utf8(value)) {
      return usage_error("the value of config var '{}' is not UTF-8 text ('{}')", name,
                         printable(value));
    }
  }
  for (const auto& name : unset) {
    if (!is_config_var_name(name)) {
      return usage_error("invalid config var name '{}'", printable(name));
    }
  }
  auto operation = TRY(Operation::begin(context));
  auto live = TRY(operation.releases().live());
  std::vector<std::string> names;
  Release release = draft(context, "");
  if (live) {
    copy_code(*live, release);
    release.config = live->config;
  }
  std::vector<std::string> unset_names;
  for (const auto& name : unset) {
    if (release.config.erase(name) == 0) {
      context.on_output(detail_line(fmt::format("{} is not set; nothing to unset", name)));
      continue;
    }
    names.push_back(name);
    unset_names.push_back(name);
  }
  if (names.empty() && set.empty()) {
    context.on_output(detail_line("No config var changed: no new release"));
    return std::nullopt;
  }
  for (const auto& [name, value] : set) {
    release.config[name] = value;
    names.push_back(name);
  }
  if (std::size_t size = config_size(release.config); size > k_max_config_size) {
    return fail("config vars would take {}; an app may have at most {} of them (names and "
                "values, as on Heroku)",
                format_size(size), format_size(k_max_config_size));
  }
  release.description =
      fmt::format("{} {} config vars", set.empty() ? "Unset" : "Set", fmt::join(names, ", "));
  auto created = TRY(operation.releases().create(release));
  auto published = operation.publish(std::move(created), {});
  if (published) {
    nlohmann::json set_names = nlohmann::json::array();
    for (const auto& [name, value] : set) {
      set_names.push_back(name);
    }
    operation.record("config", "changed",
                     {{"version", published->version}, {"set", set_names}, {"unset", unset_names}});
  }
  if (!published) {
    return std::unexpected(published.error());
  }
  return std::optional<Release>(std::move(*published));
}

Expected<Release> promote(const ReleaseContext& context, const std::string& source_app,
                          const Release& source) {
  if (source.status != ReleaseStatus::succeeded || !source.has_slug()) {
    return fail("{} v{} {}; only a succeeded release with a slug can be promoted", source_app,
                source.version,
                source.status == ReleaseStatus::succeeded ? "has no slug (nothing was built)"
                : source.status == ReleaseStatus::failed  ? "failed"
                                                          : "is still pending");
  }
  auto operation = TRY(Operation::begin(context));
  if (!operation.slugs().has(source)) {
    return fail("{} v{} has expired: its slug was pruned, so it cannot be promoted", source_app,
                source.version);
  }
  auto live = TRY(operation.releases().live());
  Release release =
      draft(context,
            fmt::format("Promote {} v{}{}", source_app, source.version,
                        source.commit.empty() ? std::string()
                                              : fmt::format(" ({})", source.commit.substr(0, 7))));
  copy_code(source, release);
  release.config = live ? live->config : ConfigVars{};
  release.promoted_from = PromotedFrom{source_app, source.version};
  auto created = TRY(operation.releases().create(release));
  return operation.publish(std::move(created), {});
}

Expected<Release> rollback(const ReleaseContext& context, std::optional<int> target) {
  auto operation = TRY(Operation::begin(context));
  auto live = operation.releases().live_version();
  if (!target && live) {
    // Down from the live one, reading only as far as the first succeeded release.
    auto versions = operation.releases().versions();
    for (auto it = versions.rbegin(); it != versions.rend() && !target; ++it) {
      if (*it < *live) {
        auto release = operation.releases().get(*it);
        if (release && release->status == ReleaseStatus::succeeded) {
          target = *it;
        }
      }
    }
  }
  if (!target) {
    return fail("no succeeded release before {} to roll back to",
                live ? fmt::format("v{}", *live) : "the first one");
  }
  auto from = TRY(operation.releases().get(*target));
  if (from.status != ReleaseStatus::succeeded) {
    return fail("v{} {}; only a succeeded release can be rolled back to", *target,
                from.status == ReleaseStatus::failed ? "failed" : "is still pending");
  }
  if (from.has_slug() && !operation.slugs().has(from)) {
    return fail("v{} has expired: its slug was pruned, so it cannot be rolled back to "
                "(keep_releases = {})",
                *target, context.config.release.keep_releases);
  }
  Release release = draft(context, fmt::format("Rollback to v{}", *target));
  copy_code(from, release);
  release.config = from.config;
  auto created = TRY(operation.releases().create(release));
  return operation.publish(std::move(created), {});
}

} // namespace slipway
