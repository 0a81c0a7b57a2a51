#include "compiler/test_script.hpp"

#include "common/sandbox.hpp"
#include "common/tree.hpp"
#include "compiler/buildpack.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<ExitStatus> run_test_script(const TestScriptRequest& request, const Config& config) {
  std::error_code ec;
  fs::create_directories(request.work_dir, ec);
  if (sandbox_switches_user()) {
    for (const auto& dir : {request.build_dir, request.env_dir, request.work_dir}) {
      TRY(chown_tree(dir, request.identity));
    }
  }
  SandboxSettings sandbox{.mode = config.build.sandbox,
                          .identity = request.identity,
                          .limits = {.memory = config.build.memory,
                                     .processes = config.runtime.processes,
                                     .file_size = config.build.max_disk},
                          .cgroups = request.cgroups};
  BuildpackRunner runner({sandbox,
                          request.build_dir,
                          request.cache_dir,
                          request.env_dir,
                          {},
                          request.source_version,
                          std::string(k_stack),
                          {}});
  // The buildpacks again, as the build staged them: their `export` files set up the tools
  // the tests run with (node on PATH, the virtualenv...).
  for (const auto& used : request.buildpacks) {
    auto buildpack =
        TRY(resolve_buildpack(used.ref, request.work_dir / "clones", config.buildpacks.official));
    TRY(runner.stage(buildpack,
                     request.work_dir / "buildpacks" / std::to_string(runner.staged_count())));
  }
  if (!request.command.empty()) {
    return runner.run_app_command(request.command, request.deadline.remaining(), request.on_output);
  }
  ExitStatus status;
  for (std::size_t index = 0; index < runner.staged_count(); ++index) {
    status = TRY(runner.test(index, request.deadline.remaining(), request.on_output));
    if (!status.ok()) {
      break;
    }
  }
  return status;
}

} // namespace slipway
