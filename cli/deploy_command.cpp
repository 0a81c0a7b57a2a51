// slipway deploy -a APP SRC_DIR: build a directory and release it, the code path the git
// hook takes with a commit.
#include "cli/cli.hpp"
#include "ops/releases.hpp"

namespace slipway::cli {

namespace {

struct DeployArgs {
  std::string app;
  std::filesystem::path source;
  std::string commit;
  std::string description;
  std::vector<std::string> buildpacks;
  bool no_wait = false;
};

Expected<void> deploy(const Globals& globals, const DeployArgs& args) {
  TRY(ops::deploy_directory(TRY(globals.context(!args.no_wait)),
                            {.app = args.app,
                             .source = std::filesystem::absolute(args.source),
                             .commit = args.commit,
                             .description = args.description,
                             .buildpacks = buildpack_refs(args.buildpacks)}));
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
  cmd->callback(choose(globals, action, args, deploy));
}

} // namespace slipway::cli
