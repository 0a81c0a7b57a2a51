// slipway deploy -a APP SRC_DIR: build a directory and release it, the code path the git
// hook takes with a commit.
#include <cstdio>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "compiler/source_tree.hpp"
#include "runtime/apps.hpp"
#include "runtime/releaser.hpp"

namespace slipway::cli {

namespace fs = std::filesystem;

namespace {

struct DeployArgs {
  std::string app;
  fs::path source;
  std::string commit;
  std::string description;
  std::vector<std::string> buildpacks;
  bool no_wait = false;
};

Expected<void> run_deploy(const Globals& globals, const DeployArgs& args) {
  auto operation = open_app(globals, args.app, args.no_wait);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  fs::path source = fs::absolute(args.source);
  std::error_code ec;
  if (!fs::is_directory(source, ec)) {
    return usage_error("source '{}' is not a directory", args.source.string());
  }
  print_line(step_line(fmt::format(
      "Building {}{}", args.app, args.commit.empty() ? "" : " from " + args.commit.substr(0, 7))));
  auto release =
      deploy(operation->context(),
             {.fill_source =
                  [&](const fs::path& build_dir) { return copy_source_tree(source, build_dir); },
              .commit = args.commit,
              .description = args.description,
              .buildpacks = buildpack_refs(args.buildpacks),
              .trusted_source = true});
  if (!release) {
    return std::unexpected(release.error());
  }
  return {};
}

} // namespace

void add_deploy_command(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<DeployArgs>();
  auto* cmd = app.add_subcommand("deploy", "build a source directory and release it");
  add_app_option(cmd, args->app);
  cmd->add_option("SRC_DIR", args->source, "the app's source")->required();
  cmd->add_option("--commit", args->commit, "the commit being deployed (SOURCE_VERSION)");
  cmd->add_option("--description", args->description, "the release's description");
  cmd->add_option("--buildpack", args->buildpacks, "a buildpack to use; repeat for several");
  cmd->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  cmd->callback([&, args] { action = [&globals, args] { return run_deploy(globals, *args); }; });
}

} // namespace slipway::cli
