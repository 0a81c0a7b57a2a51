// What a CI test run runs once its test build is made (compile.hpp, for_tests): app.json's
// test-setup, then the tests — app.json's `test` script, else each buildpack's bin/test —
// in the build's sandbox, on a build dir of its own (a node's copy).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/cgroup.hpp"
#include "common/config.hpp"
#include "common/deadline.hpp"
#include "common/error.hpp"
#include "common/owner.hpp"
#include "common/subprocess.hpp"
#include "compiler/compile.hpp"

namespace slipway {

struct TestScriptRequest {
  std::filesystem::path build_dir;       // the test build, or a node's copy of it
  std::filesystem::path env_dir;         // the run's config vars (CI=true, CI_NODE_INDEX, ...)
  std::filesystem::path cache_dir;       // mounted as in the build
  std::filesystem::path work_dir;        // scratch for the buildpacks' copies
  std::vector<UsedBuildpack> buildpacks; // as the test build used them
  std::string command; // a script of the app's; empty: each buildpack's bin/test in turn
  std::string source_version;
  std::function<void(std::string_view)> on_output;
  Owner identity;
  std::shared_ptr<SandboxCgroups> cgroups;
  Deadline deadline;
};

// Runs the script (or the buildpacks' bin/test, stopping at the first that fails) and says
// how it ended; an Error only when it could not be run at all.
Expected<ExitStatus> run_test_script(const TestScriptRequest& request, const Config& config);

} // namespace slipway
