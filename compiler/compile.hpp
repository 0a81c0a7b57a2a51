// The slug compiler's entry point: turns a filled build dir into what becomes /app of a
// release — .slugignore applied, buildpacks chosen and run, process types resolved. The
// `build` command and the git hook both call compile_app(); packing is slug.hpp's job.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/error.hpp"
#include "compiler/procfile.hpp"

namespace slipway {

inline constexpr std::string_view k_stack = "slipway-24";

struct BuildRequest {
  std::filesystem::path build_dir;     // the app's source; compiled in place
  std::filesystem::path cache_dir;     // CACHE_DIR, kept between builds (created if missing)
  std::filesystem::path env_dir;       // ENV_DIR; empty: an empty one in work_dir
  std::filesystem::path work_dir;      // scratch space for this build, owned by the caller
  std::vector<std::string> buildpacks; // explicit choice; empty: the app's own, else detect
  std::string source_version;          // SOURCE_VERSION, the commit
  // Every line of the build log as it happens, already in DESIGN.md's output format.
  std::function<void(std::string_view)> on_output;
};

struct UsedBuildpack {
  std::string ref;    // as named
  std::string name;   // what bin/detect called it ("Node.js")
  std::string commit; // git buildpacks only
};

struct BuildResult {
  std::vector<UsedBuildpack> buildpacks;
  ProcessTypes process_types;      // Procfile first, then the buildpacks' defaults
  std::vector<std::string> addons; // named by bin/release; listed, not provisioned
  std::string stack{k_stack};
  std::string source_version;
  std::chrono::milliseconds compile_time{0}; // spent in the buildpacks' bin/compile
};

Expected<BuildResult> compile_app(const BuildRequest& request, const Config& config);

} // namespace slipway
