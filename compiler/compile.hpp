// The slug compiler's entry point: turns a filled build dir into what becomes /app of a
// release — .slugignore applied, buildpacks chosen and run, process types resolved. The
// `build` command and the git hook both call compile_app(); packing is slug.hpp's job.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cgroup.hpp"
#include "common/config.hpp"
#include "common/deadline.hpp"
#include "common/error.hpp"
#include "common/owner.hpp"
#include "compiler/procfile.hpp"

namespace slipway {

inline constexpr std::string_view k_stack = "slipway-24";

struct UsedBuildpack {
  std::string ref;    // as named
  std::string name;   // what bin/detect called it ("Node.js")
  std::string commit; // git buildpacks only
};

struct BuildRequest {
  std::filesystem::path build_dir; // the app's source; compiled in place
  std::filesystem::path cache_dir; // CACHE_DIR, kept between builds (created if missing)
  std::filesystem::path env_dir;   // ENV_DIR; empty: an empty one in work_dir
  std::filesystem::path work_dir;  // scratch space for this build, owned by the caller
  // A directory of root's that holds build_dir as `app` and, when it can, cache_dir as
  // `cache`: the buildpacks' / (Sandbox::set_root), where they can hard-link the cache's
  // files into the app instead of copying them. Empty: the two are bound apart.
  std::filesystem::path build_root;
  std::vector<std::string> buildpacks; // explicit choice; empty: the app's own, else detect
  // The explicit buildpacks come from the app's own files (app.json environments.test or
  // .review): judged as the app's own are (trusted_source below), not as the admin's.
  bool buildpacks_from_app = false;
  std::string source_version; // SOURCE_VERSION, the commit
  // Every line of the build log as it happens, already in the output format of
  // docs/CONTRACTS.md "Output conventions".
  std::function<void(std::string_view)> on_output;
  // Whose build it is: the buildpacks run as this uid and gid (sandbox.hpp), and when they
  // switch to it on the host, the build dir, cache and env dir become its own.
  Owner identity;
  std::shared_ptr<SandboxCgroups> cgroups; // the build's memory and process limits; may be null
  // The build's time limit, when it started before compile_app (a push's export); empty:
  // [build].timeout from now.
  std::optional<Deadline> deadline;
  // Whether the app's own .buildpacks and app.json may name buildpacks on this server's
  // disk (a path or a file:// URL): yes for a source the admin hands to `build` or
  // `deploy`, no for a pushed commit, except under [build].local_buildpacks.
  bool trusted_source = false;
  // A CI test build: each buildpack's bin/test-compile where it has one (Heroku CI's).
  bool for_tests = false;
  // Asked once the buildpacks are chosen, before any compiles, when set: true skips the
  // compile, because the caller holds a slug built from this same source with these same
  // buildpacks on this stack; compile_app then returns what it chose, `reused` set.
  std::function<bool(const std::vector<UsedBuildpack>& buildpacks, std::string_view stack)> reuse;
};

struct BuildResult {
  std::vector<UsedBuildpack> buildpacks;
  ProcessTypes process_types;      // Procfile first, then the buildpacks' defaults
  std::vector<std::string> addons; // named by bin/release; listed, not provisioned
  std::string stack{k_stack};
  std::string source_version;
  std::chrono::milliseconds compile_time{0}; // spent in the buildpacks' bin/compile
  bool reused = false;                       // the caller's `reuse` said yes: nothing was compiled
};

Expected<BuildResult> compile_app(const BuildRequest& request, const Config& config);

} // namespace slipway
