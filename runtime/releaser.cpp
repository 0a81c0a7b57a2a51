#include "runtime/releaser.hpp"

#include <algorithm>
#include <unistd.h>

#include "common/atomic_file.hpp"
#include "common/file_lock.hpp"
#include "common/output.hpp"
#include "common/scratch_dir.hpp"
#include "common/slug.hpp"
#include "compiler/compile.hpp"
#include "compiler/release_yaml.hpp"
#include "runtime/app_log.hpp"
#include "runtime/daemon_client.hpp"
#include "runtime/deploy_lock.hpp"
#include "runtime/release_phase.hpp"
#include "runtime/release_store.hpp"
#include "runtime/retention.hpp"
#include "runtime/slug_store.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

// One operation on one app, from the lock to the end.
class Operation {
 public:
  static Expected<Operation> begin(const ReleaseContext& context) {
    auto lock = lock_app(context.layout, context.app, context.wait, context.on_output);
    if (!lock) {
      return std::unexpected(lock.error());
    }
    Operation operation(context, std::move(*lock));
    auto settled = operation.m_releases.recover();
    if (!settled) {
      return std::unexpected(settled.error());
    }
    for (int version : *settled) {
      context.on_output(step_line(fmt::format("Settled v{}, left pending by an interrupted "
                                              "operation",
                                              version)));
    }
    return operation;
  }

  ReleaseStore& releases() { return m_releases; }
  SlugStore& slugs() { return m_slugs; }

  // Release phase, activation, `succeeded`; on failure `failed` with the reason.
  // `phase_dir` holds the release's files for the release phase; empty: unpack the slug.
  Expected<Release> publish(Release release, const fs::path& phase_dir) {
    auto live = m_releases.live_version();
    auto failed = [&](const Error& error) -> Expected<Release> {
      release.status = ReleaseStatus::failed;
      release.reason = error.message;
      if (auto written = m_releases.finish(release); !written) {
        return std::unexpected(written.error());
      }
      return fail("{}; {}", error.message,
                  live ? fmt::format("v{} is still live", *live) : "no release is live");
    };
    if (!release.release_command.empty()) {
      auto ran = run_phase(release, phase_dir);
      if (!ran) {
        log_event(fmt::format("Release v{} failed: {}", release.version, ran.error().message));
        return failed(ran.error());
      }
    }
    if (auto activated = activate(release.version); !activated) {
      log_event(fmt::format("Release v{} failed: {}", release.version, activated.error().message));
      return failed(activated.error());
    }
    release.status = ReleaseStatus::succeeded;
    if (auto written = m_releases.finish(release); !written) {
      return std::unexpected(written.error());
    }
    if (!m_context.defer_deletions) {
      prune_unpacked(m_context.layout, m_context.config, m_context.app);
      if (auto pruned = prune_slugs(m_context.layout, m_context.config); !pruned) {
        m_context.on_output(failure_line("warning: " + pruned.error().message));
      }
    }
    log_event(fmt::format("Release v{} created{}: {}", release.version,
                          release.user.empty() ? "" : " by " + release.user, release.description));
    m_context.on_output(detail_line(fmt::format(
        "{} deployed (v{})", app_url(m_context.config, m_context.app), release.version)));
    return release;
  }

 private:
  Operation(const ReleaseContext& context, FileLock lock)
      : m_context(context), m_lock(std::move(lock)), m_releases(context.layout, context.app),
        m_slugs(context.layout) {}

  // Puts `version` live. With the daemon running, it starts the release's processes, and
  // switches the router and `current` only once they answer; without it, `current` moves
  // and a daemon started later runs it.
  Expected<void> activate(int version) {
    auto answer = call_daemon(
        m_context.layout, {{"command", "activate"}, {"app", m_context.app}, {"version", version}},
        m_context.on_output);
    if (!answer) {
      // The daemon may have died after moving `current`: then the release is live.
      if (m_releases.live_version() == version) {
        return {};
      }
      return std::unexpected(answer.error());
    }
    if (!*answer) {
      if (auto moved = m_releases.activate(version); !moved) {
        return moved;
      }
      m_context.on_output(step_line(fmt::format("Launching v{}... done", version)));
      return {};
    }
    const nlohmann::json& result = **answer;
    if (result.value("web", 0) == 0) {
      m_context.on_output(step_line(fmt::format("Launching v{}... done", version)));
      return {};
    }
    m_context.on_output(step_line(fmt::format(
        "Launching v{}... health check passed ({:.1f}s), traffic switched in {} ms", version,
        result.value("health_ms", 0L) / 1000.0, result.value("switch_ms", 0L))));
    return {};
  }

  void log_event(std::string_view text) {
    AppLog(m_context.layout.log_dir(m_context.app), m_context.config.runtime.log_size)
        .append("slipway[api]", text);
  }

  Expected<void> run_phase(const Release& release, const fs::path& given_dir) {
    fs::path app_dir = given_dir;
    fs::path scratch;
    if (app_dir.empty()) {
      // A one-off copy of the release's files: the command's writes are thrown away.
      scratch = m_context.layout.tmp_dir(m_context.app) /
                fmt::format("release-v{}-{}", release.version, getpid());
      std::error_code ec;
      fs::remove_all(scratch, ec);
      if (auto unpacked = unpack_slug(m_slugs.path(release), scratch); !unpacked) {
        return unpacked;
      }
      app_dir = scratch;
    }
    auto ran = run_release_phase({.sandbox = m_context.config.build.sandbox,
                                  .app_dir = app_dir,
                                  .command = release.release_command,
                                  .config = release.config,
                                  .version = release.version,
                                  .timeout = m_context.config.release.phase_timeout,
                                  .log = m_releases.output_log(release.version),
                                  .on_output = m_context.on_output});
    if (!scratch.empty() && !m_context.defer_deletions) {
      std::error_code ec;
      fs::remove_all(scratch, ec);
    }
    return ran;
  }

  const ReleaseContext& m_context;
  FileLock m_lock;
  ReleaseStore m_releases;
  SlugStore m_slugs;
};

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
    if (auto written = write_file_atomic(dir / name, value, 0600); !written) {
      return written;
    }
  }
  return {};
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

} // namespace

std::string app_url(const Config& config, const std::string& app) {
  return config.server.http_port == 80
             ? fmt::format("http://{}.{}", app, config.server.domain)
             : fmt::format("http://{}.{}:{}", app, config.server.domain, config.server.http_port);
}

Expected<void> housekeep(const Layout& layout, const Config& config, const std::string& app) {
  fs::path trash = layout.app_dir(app) / "trash";
  {
    auto lock = FileLock::try_acquire(layout.lock_file(app), FileLock::Mode::exclusive);
    if (!lock) {
      return std::unexpected(lock.error());
    }
    if (*lock) {
      // No operation is running, so every scratch dir belongs to a finished one. Moving is
      // quick; the slow delete happens after the lock is free again.
      std::error_code ec;
      fs::create_directories(trash, ec);
      for (const auto& entry : fs::directory_iterator(layout.tmp_dir(app), ec)) {
        fs::rename(entry.path(), trash / entry.path().filename(), ec);
      }
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(trash, ec)) {
    fs::remove_all(entry.path(), ec);
  }
  prune_unpacked(layout, config, app);
  auto pruned = prune_slugs(layout, config);
  if (!pruned) {
    return std::unexpected(pruned.error());
  }
  return {};
}

std::string display_status(const Layout& layout, const Release& release) {
  if (release.status == ReleaseStatus::succeeded && release.has_slug() &&
      !SlugStore(layout).has(release)) {
    return "expired";
  }
  return std::string(to_string(release.status));
}

Expected<Release> deploy(const ReleaseContext& context, const DeployRequest& request) {
  auto operation = Operation::begin(context);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  auto live = operation->releases().live();
  if (!live) {
    return std::unexpected(live.error());
  }
  ConfigVars config = *live ? (*live)->config : ConfigVars{};
  // Scratch space under the lock; gone at the end, or at housekeeping when deferred.
  auto scratch = ScratchDir::create(context.layout.tmp_dir(context.app), "deploy");
  if (!scratch) {
    return std::unexpected(scratch.error());
  }
  if (context.defer_deletions) {
    scratch->release();
  }
  fs::path build_dir = scratch->path() / "app";
  fs::path work_dir = scratch->path() / "work";
  std::error_code ec;
  fs::create_directories(build_dir, ec);
  if (ec) {
    return fail("cannot create '{}': {}", build_dir.string(), ec.message());
  }
  if (auto filled = request.fill_source(build_dir); !filled) {
    return std::unexpected(filled.error());
  }
  fs::path env_dir = work_dir / "env";
  if (auto written = write_env_dir(env_dir, config); !written) {
    return std::unexpected(written.error());
  }
  auto built = compile_app({.build_dir = build_dir,
                            .cache_dir = context.layout.cache_dir(context.app),
                            .env_dir = env_dir,
                            .work_dir = work_dir,
                            .buildpacks = request.buildpacks,
                            .source_version = request.commit,
                            .on_output = context.on_output},
                           context.config);
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
                   .max_size = context.config.build.max_slug_size};
  auto slug = operation->slugs().add(build_dir, pack, [&](const SlugInfo& info) {
    release.slug = "sha256:" + info.sha256;
    release.slug_file = info.path.filename().string();
    auto created = operation->releases().create(release);
    if (!created) {
      return Expected<void>(std::unexpected(created.error()));
    }
    release = std::move(*created);
    return Expected<void>();
  });
  if (!slug) {
    return std::unexpected(slug.error());
  }
  context.on_output(
      step_line(fmt::format("Compressing slug... done, {}", format_size(slug->size))));
  // The build dir is exactly the slug's content, and a one-off copy nobody else uses.
  auto published = operation->publish(std::move(release), build_dir);
  if (published && request.on_live) {
    request.on_live(*published);
  }
  return published;
}

Expected<Release> change_config(const ReleaseContext& context, const ConfigVars& set,
                                const std::vector<std::string>& unset) {
  for (const auto& [name, value] : set) {
    if (!is_config_var_name(name)) {
      return usage_error("invalid config var name '{}' (use letters, digits and _, not "
                         "starting with a digit)",
                         name);
    }
  }
  for (const auto& name : unset) {
    if (!is_config_var_name(name)) {
      return usage_error("invalid config var name '{}'", name);
    }
  }
  auto operation = Operation::begin(context);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  auto live = operation->releases().live();
  if (!live) {
    return std::unexpected(live.error());
  }
  std::vector<std::string> names;
  Release release = draft(context, "");
  if (*live) {
    copy_code(**live, release);
    release.config = (*live)->config;
  }
  for (const auto& name : unset) {
    if (release.config.erase(name) == 0) {
      return fail("config var '{}' is not set", name);
    }
    names.push_back(name);
  }
  for (const auto& [name, value] : set) {
    release.config[name] = value;
    names.push_back(name);
  }
  release.description =
      fmt::format("{} {} config vars", unset.empty() ? "Set" : "Unset", join(names));
  auto created = operation->releases().create(release);
  if (!created) {
    return std::unexpected(created.error());
  }
  return operation->publish(std::move(*created), {});
}

Expected<Release> rollback(const ReleaseContext& context, std::optional<int> target) {
  auto operation = Operation::begin(context);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  auto live = operation->releases().live_version();
  if (!target) {
    auto releases = operation->releases().list();
    for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
      if (it->status == ReleaseStatus::succeeded && live && it->version < *live) {
        target = it->version;
        break;
      }
    }
    if (!target) {
      return fail("no succeeded release before {} to roll back to",
                  live ? fmt::format("v{}", *live) : "the first one");
    }
  }
  auto from = operation->releases().get(*target);
  if (!from) {
    return std::unexpected(from.error());
  }
  if (from->status != ReleaseStatus::succeeded) {
    return fail("v{} {}; only a succeeded release can be rolled back to", *target,
                from->status == ReleaseStatus::failed ? "failed" : "is still pending");
  }
  if (from->has_slug() && !operation->slugs().has(*from)) {
    return fail("v{} has expired: its slug was pruned, so it cannot be rolled back to "
                "(keep_releases = {})",
                *target, context.config.release.keep_releases);
  }
  Release release = draft(context, fmt::format("Rollback to v{}", *target));
  copy_code(*from, release);
  release.config = from->config;
  auto created = operation->releases().create(release);
  if (!created) {
    return std::unexpected(created.error());
  }
  return operation->publish(std::move(*created), {});
}

} // namespace slipway
