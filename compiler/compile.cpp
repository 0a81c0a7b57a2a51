#include "compiler/compile.hpp"

#include <chrono>

#include "common/atomic_file.hpp"
#include "common/output.hpp"
#include "common/sandbox.hpp"
#include "common/subprocess.hpp"
#include "compiler/app_manifest.hpp"
#include "compiler/buildpack.hpp"
#include "compiler/slugignore.hpp"

namespace slipway {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The build's time limit counts from its start, across every buildpack.
class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds limit)
      : m_limit(limit), m_end(Clock::now() + limit) {}
  std::chrono::milliseconds remaining() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_end - Clock::now());
    return std::max(left, std::chrono::milliseconds(1));
  }
  std::chrono::milliseconds limit() const { return m_limit; }
  bool expired() const { return Clock::now() >= m_end; }

 private:
  std::chrono::milliseconds m_limit;
  Clock::time_point m_end;
};

Expected<void> apply_slugignore(const fs::path& app, const BuildRequest& request) {
  std::error_code ec;
  if (!fs::is_regular_file(app / ".slugignore", ec)) {
    return {};
  }
  auto text = read_file(app / ".slugignore");
  if (!text) {
    return std::unexpected(text.error());
  }
  auto ignore = SlugIgnore::parse(*text);
  if (!ignore) {
    return std::unexpected(ignore.error());
  }
  auto removed = ignore->apply(app);
  if (!removed) {
    return std::unexpected(removed.error());
  }
  if (*removed > 0) {
    request.on_output(step_line(fmt::format("Removed {} {} named by .slugignore", *removed,
                                            *removed == 1 ? "entry" : "entries")));
  }
  return {};
}

std::string join_names(const ProcessTypes& types) {
  std::string names;
  for (const auto& [name, command] : types) {
    names += (names.empty() ? "" : ", ") + name;
  }
  return names;
}

} // namespace

Expected<BuildResult> compile_app(const BuildRequest& request, const Config& config) {
  const fs::path& app = request.build_dir;
  Deadline deadline(config.build.timeout);
  warn_if_unsandboxed(config.build.sandbox);

  std::error_code ec;
  fs::path env_dir = request.env_dir.empty() ? request.work_dir / "env" : request.env_dir;
  for (const auto& dir : {request.cache_dir, env_dir, request.work_dir}) {
    fs::create_directories(dir, ec);
    if (ec) {
      return fail("cannot create '{}': {}", dir.string(), ec.message());
    }
  }
  if (auto ok = apply_slugignore(app, request); !ok) {
    return std::unexpected(ok.error());
  }

  // A malformed health check fails the build, not the launch.
  if (auto checked = web_health_check(app); !checked) {
    return std::unexpected(checked.error());
  }

  // The buildpacks: as asked, else as the app names them, else the first that detects.
  std::vector<std::string> refs = request.buildpacks;
  bool detecting = false;
  if (refs.empty()) {
    auto own = app_buildpacks(app);
    if (!own) {
      return std::unexpected(own.error());
    }
    detecting = !own->has_value();
    refs = detecting ? config.build.buildpacks : **own;
  }

  BuildpackRunner runner({config.build.sandbox, app, request.cache_dir, env_dir,
                          request.source_version, std::string(k_stack)});
  BuildResult result;
  result.source_version = request.source_version;
  std::vector<std::size_t> chosen;
  for (const auto& ref : refs) {
    auto buildpack = resolve_buildpack(ref, request.work_dir / "clones");
    if (!buildpack) {
      return std::unexpected(buildpack.error());
    }
    auto index = runner.stage(*buildpack, request.work_dir / "buildpacks" /
                                              std::to_string(runner.staged_count()));
    if (!index) {
      return std::unexpected(index.error());
    }
    auto detected = runner.detect(*index, deadline.remaining());
    if (!detected) {
      return std::unexpected(detected.error());
    }
    if (!*detected) {
      if (detecting) {
        continue;
      }
      return fail("buildpack '{}' does not apply to this app (its bin/detect said no)", ref);
    }
    request.on_output(step_line(fmt::format("{} app detected", **detected)));
    result.buildpacks.push_back({ref, **detected, buildpack->commit});
    chosen.push_back(*index);
    if (detecting) {
      break;
    }
  }
  if (chosen.empty()) {
    std::string tried;
    for (const auto& ref : refs) {
      tried += (tried.empty() ? "" : ", ") + ref;
    }
    return fail("no buildpack applies to this app (tried {})", tried);
  }

  ProcessTypes defaults;
  std::vector<std::pair<std::string, std::string>> config_vars;
  for (std::size_t index : chosen) {
    auto compile_start = Clock::now();
    auto ok = runner.compile(index, deadline.remaining(), request.on_output);
    result.compile_time +=
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - compile_start);
    if (!ok) {
      if (deadline.expired()) {
        return fail("build timed out after {} (buildpack '{}' was compiling)",
                    format_duration(deadline.limit()), runner.buildpack(index).name);
      }
      return std::unexpected(ok.error());
    }
    auto release = runner.release(index, deadline.remaining());
    if (!release) {
      return std::unexpected(release.error());
    }
    // A later buildpack's defaults replace an earlier one's of the same name.
    for (auto& [name, command] : release->default_process_types) {
      std::erase_if(defaults, [&](const auto& type) { return type.first == name; });
      defaults.emplace_back(name, command);
    }
    config_vars.insert(config_vars.end(), release->config_vars.begin(), release->config_vars.end());
    result.addons.insert(result.addons.end(), release->addons.begin(), release->addons.end());
  }

  request.on_output(step_line("Discovering process types"));
  if (fs::is_regular_file(app / "Procfile", ec)) {
    auto text = read_file(app / "Procfile");
    if (!text) {
      return std::unexpected(text.error());
    }
    auto types = parse_procfile(*text);
    if (!types) {
      return std::unexpected(types.error());
    }
    result.process_types = std::move(*types);
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
    fs::create_directories(app / ".profile.d", ec);
    auto written = write_file_atomic(app / ".profile.d/000-buildpack-config-vars.sh",
                                     config_vars_profile_script(config_vars));
    if (!written) {
      return std::unexpected(written.error());
    }
  }
  return result;
}

} // namespace slipway
