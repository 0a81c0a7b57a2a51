#include "compiler/compile.hpp"

#include <chrono>
#include <ranges>

#include <fmt/ranges.h>

#include "common/output.hpp"
#include "common/sandbox.hpp"
#include "common/subprocess.hpp"
#include "common/time.hpp"
#include "common/tree.hpp"
#include "compiler/app_manifest.hpp"
#include "compiler/buildpack.hpp"
#include "compiler/slugignore.hpp"

namespace slipway {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

Expected<void> apply_slugignore(const fs::path& app, const BuildRequest& request,
                                const Deadline& deadline) {
  auto text = read_beneath(app, ".slugignore");
  if (!text) {
    return prefixed(text.error(), ".slugignore");
  }
  if (!*text) {
    return {};
  }
  auto ignore = TRY(SlugIgnore::parse(**text));
  auto removed = TRY(ignore.apply(app, deadline));
  if (removed > 0) {
    request.on_output(step_line(fmt::format("Removed {} {} named by .slugignore", removed,
                                            removed == 1 ? "entry" : "entries")));
  }
  return {};
}

std::string join_names(const ProcessTypes& types) {
  return fmt::format("{}", fmt::join(types | std::views::keys, ", "));
}

// A buildpack that the app's own files name may not be a directory of this server (a
// path or a file:// URL: it would copy the server's files into the build) unless the admin
// allowed where it is.
Expected<void> check_app_named(const std::string& ref, const Config& config) {
  std::string_view path = ref;
  if (path.starts_with("file://")) {
    path.remove_prefix(7);
    path = path.substr(0, path.find('#'));
  } else if (!path.starts_with('/')) {
    return {};
  }
  fs::path normal = fs::path(path).lexically_normal();
  for (const auto& allowed : config.build.local_buildpacks) {
    auto relative = normal.lexically_relative(allowed);
    if (!relative.empty() && *relative.begin() != "..") {
      return {};
    }
  }
  return fail("buildpack '{}' named by the app is a path on this server; a pushed app may "
              "name built-in buildpacks and git URLs (an admin may allow a directory with "
              "[build] local_buildpacks)",
              ref);
}

// The build dir, cache and env dir belong to the uid the buildpacks run as.
Expected<void> hand_over(const BuildRequest& request, const fs::path& env_dir) {
  if (!sandbox_switches_user()) {
    return {};
  }
  for (const auto& dir : {request.build_dir, request.cache_dir, env_dir}) {
    TRY(chown_tree(dir, request.identity));
  }
  return {};
}

// Stops a build that writes more than [build].max_disk, or that would leave less free
// space than half of what a deploy needs to start.
std::function<std::optional<std::string>()> disk_watch(const BuildRequest& request,
                                                       const Config& config) {
  return [dirs = std::vector<fs::path>{request.build_dir, request.cache_dir, request.work_dir},
          limit = config.build.max_disk,
          reserve = config.build.min_free_disk / 2]() -> std::optional<std::string> {
    std::uint64_t used = 0;
    for (const auto& dir : dirs) {
      used += disk_usage(dir, limit - std::min(used, limit));
      if (used > limit) {
        return fmt::format("was stopped: the build wrote more than [build] max_disk ({})",
                           format_size(limit));
      }
    }
    auto free = free_disk(dirs.front());
    if (free && *free < reserve) {
      return fmt::format("was stopped: the disk has only {} free", format_size(*free));
    }
    return std::nullopt;
  };
}

} // namespace

Expected<BuildResult> compile_app(const BuildRequest& request, const Config& config) {
  const fs::path& app = request.build_dir;
  Deadline deadline = request.deadline.value_or(Deadline(config.build.timeout));
  warn_if_unsandboxed(config.build.sandbox);
  auto timed_out = [&](std::string_view during) {
    return fail("build timed out after {} ({})", format_duration(deadline.limit()), during);
  };

  std::error_code ec;
  fs::path env_dir = request.work_dir / "env";
  for (const auto& dir : {request.cache_dir, request.work_dir}) {
    fs::create_directories(dir, ec);
    if (ec) {
      return fail("cannot create '{}': {}", dir.string(), ec.message());
    }
  }
  // The env dir is the build's own copy: its files must be readable by the build's uid.
  if (request.env_dir.empty()) {
    fs::create_directories(env_dir, ec);
  } else if (fs::absolute(request.env_dir) != fs::absolute(env_dir)) {
    TRY(copy_tree(request.env_dir, env_dir));
  }
  TRY(hand_over(request, env_dir));
  if (auto ok = apply_slugignore(app, request, deadline); !ok) {
    if (deadline.expired()) {
      return timed_out("applying .slugignore");
    }
    return std::unexpected(ok.error());
  }

  // A malformed app.json fails the build, not the launch; what it says that means nothing
  // here is said once. It is read as pushed: the buildpacks cannot change its predeploy.
  std::optional<AppJson> manifest = TRY(read_app_json(app));
  if (manifest) {
    for (const auto& note : manifest->notes) {
      request.on_output(detail_line("app.json: " + note));
    }
  }

  // The buildpacks: as asked, else as the app names them, else the first that detects.
  std::vector<std::string> refs = request.buildpacks;
  bool detecting = false;
  if (!refs.empty() && request.buildpacks_from_app && !request.trusted_source) {
    for (const auto& ref : refs) {
      TRY(check_app_named(ref, config));
    }
  }
  if (refs.empty()) {
    auto own = TRY(app_buildpacks(app));
    detecting = !own.has_value();
    refs = detecting ? config.build.buildpacks : *own;
    if (!detecting && !request.trusted_source) {
      for (const auto& ref : refs) {
        TRY(check_app_named(ref, config));
      }
    }
  }

  SandboxSettings sandbox{.mode = config.build.sandbox,
                          .identity = request.identity,
                          .limits = {.memory = config.build.memory,
                                     .processes = config.runtime.processes,
                                     .file_size = config.build.max_disk},
                          .cgroups = request.cgroups};
  BuildpackRunner runner({sandbox, app, request.cache_dir, env_dir, request.build_root,
                          request.source_version, std::string(k_stack),
                          disk_watch(request, config)});
  BuildResult result;
  result.source_version = request.source_version;
  std::vector<std::size_t> chosen;
  for (const auto& ref : refs) {
    auto buildpack =
        TRY(resolve_buildpack(ref, request.work_dir / "clones", config.buildpacks.official));
    if (buildpack.stands_in) {
      request.on_output(
          step_line(fmt::format("Using the built-in {} buildpack for {}", buildpack.name, ref)));
    }
    auto index = TRY(runner.stage(buildpack, request.work_dir / "buildpacks" /
                                                 std::to_string(runner.staged_count())));
    auto detected = TRY(runner.detect(index, deadline.remaining()));
    if (!detected) {
      if (detecting) {
        continue;
      }
      return fail("buildpack '{}' does not apply to this app (its bin/detect said no)", ref);
    }
    request.on_output(step_line(fmt::format("{} app detected", *detected)));
    result.buildpacks.push_back({ref, *detected, buildpack.commit});
    chosen.push_back(index);
    if (detecting) {
      break;
    }
  }
  if (chosen.empty()) {
    return fail("{} (tried {})", undetected_app(app), fmt::join(refs, ", "));
  }
  if (request.reuse && request.reuse(result.buildpacks, result.stack)) {
    result.reused = true;
    return result;
  }

  ProcessTypes defaults;
  std::vector<std::pair<std::string, std::string>> config_vars;
  for (std::size_t index : chosen) {
    auto compile_start = Clock::now();
    auto compiled =
        runner.compile(index, deadline.remaining(), request.on_output, request.for_tests);
    result.compile_time +=
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - compile_start);
    if (!compiled) {
      if (deadline.expired()) {
        return timed_out(fmt::format("buildpack '{}' was compiling", runner.buildpack(index).name));
      }
      return std::unexpected(compiled.error());
    }
    ReleaseInfo& release = *compiled;
    // A later buildpack's defaults replace an earlier one's of the same name.
    for (auto& [name, command] : release.default_process_types) {
      std::erase_if(defaults, [&](const auto& type) { return type.first == name; });
      defaults.emplace_back(name, command);
    }
    config_vars.insert(config_vars.end(), release.config_vars.begin(), release.config_vars.end());
    result.addons.insert(result.addons.end(), release.addons.begin(), release.addons.end());
  }

  // From here on the build dir is what the buildpacks left: every read and write resolves
  // inside it (tree.hpp), whatever symlinks they planted.
  request.on_output(step_line("Discovering process types"));
  auto procfile = TRY(read_beneath(app, "Procfile"));
  if (procfile) {
    result.process_types = TRY(parse_procfile(*procfile));
    request.on_output(detail_line(
        fmt::format("Procfile declares types     -> {}",
                    result.process_types.empty() ? "(none)" : join_names(result.process_types))));
  }
  if (!defaults.empty()) {
    request.on_output(
        detail_line(fmt::format("Default types for buildpack -> {}", join_names(defaults))));
  }
  merge_defaults(result.process_types, defaults);

  if (!config_vars.empty()) {
    TRY(write_beneath(app, ".profile.d/000-buildpack-config-vars.sh",
                      config_vars_profile_script(config_vars)));
  }
  if (deadline.expired()) {
    return timed_out("after the buildpacks");
  }

  // Dokku's predeploy: in the build's sandbox, so that what it writes is in the slug.
  if (manifest && !manifest->scripts.dokku_predeploy.empty()) {
    const std::string& script = manifest->scripts.dokku_predeploy;
    request.on_output(step_line(fmt::format("Running dokku-predeploy script: {}", script)));
    auto status =
        TRY(runner.run_app_command(script, deadline.remaining(), [&](std::string_view line) {
          request.on_output(detail_line(line));
        }));
    if (status.timed_out) {
      return timed_out("the dokku-predeploy script was running");
    }
    if (!status.ok()) {
      return fail("dokku-predeploy script {}", status.describe());
    }
  }
  return result;
}

} // namespace slipway
