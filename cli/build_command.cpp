// slipway build SRC_DIR -o SLUG: the standalone slug compiler.
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "common/scratch_dir.hpp"
#include "common/slug.hpp"
#include "compiler/compile.hpp"
#include "compiler/source_tree.hpp"
#include "runtime/apps.hpp"

namespace slipway::cli {

namespace fs = std::filesystem;

namespace {

struct BuildArgs {
  fs::path source;
  fs::path output;
  std::vector<std::string> buildpacks;
  fs::path cache;
  fs::path env_dir;
  std::string source_version;
  bool json = false;
};

Expected<void> run_build(const Globals& globals, const BuildArgs& args) {
  auto config = globals.config();
  if (!config) {
    return std::unexpected(config.error());
  }
  std::error_code ec;
  auto buildpacks = buildpack_refs(args.buildpacks);

  auto work = ScratchDir::create(fs::temp_directory_path(), "slipway-build", 0711);
  if (!work) {
    return std::unexpected(work.error());
  }
  fs::path build_dir = work->path() / "app";
  if (auto copied = copy_source_tree(args.source, build_dir); !copied) {
    return copied;
  }
  std::string short_version = args.source_version.substr(0, 7);
  print_line(step_line(fmt::format("Building {}{}", fs::absolute(args.source).filename().string(),
                                   short_version.empty() ? "" : " from " + short_version)));

  BuildRequest request{
      .build_dir = build_dir,
      .cache_dir = args.cache.empty() ? work->path() / "cache" : fs::absolute(args.cache),
      .env_dir = args.env_dir.empty() ? fs::path() : fs::absolute(args.env_dir),
      .work_dir = work->path() / "work",
      .buildpacks = buildpacks,
      .source_version = args.source_version,
      .on_output = print_line,
      .identity = build_identity(*config),
      .cgroups =
          SandboxCgroups::create(globals.layout().id(), "build", fmt::format("build-{}", getpid()),
                                 config->build.memory, config->runtime.processes),
      .trusted_source = true,
  };
  auto built = compile_app(request, *config);
  request.cgroups->remove();
  if (!built) {
    return std::unexpected(built.error());
  }
  // An existing directory is a store: the slug is named there by its SHA-256.
  PackOptions pack{.compression = config->build.slug_compression,
                   .max_size = config->build.max_slug_size};
  fs::path output = fs::absolute(args.output);
  auto slug = fs::is_directory(output, ec) ? pack_slug_into_store(build_dir, output, pack)
                                           : pack_slug(build_dir, output, pack);
  if (!slug) {
    return std::unexpected(slug.error());
  }
  print_line(step_line(fmt::format("Compressing slug... done, {}", format_size(slug->size))));
  constexpr std::uint64_t k_soft_limit = 300ull * 1024 * 1024;
  if (slug->size > k_soft_limit) {
    print_line(failure_line(fmt::format("warning: slug is {}; past {} deploys slow down",
                                        format_size(slug->size), format_size(k_soft_limit))));
  }

  if (args.json) {
    nlohmann::json out = {
        {"slug", slug->path.string()},
        {"sha256", slug->sha256},
        {"size", slug->size},
        {"stack", built->stack},
        {"source_version", built->source_version},
        {"process_types", nlohmann::json::object()},
        {"buildpacks", nlohmann::json::array()},
        {"addons", built->addons},
    };
    for (const auto& [name, command] : built->process_types) {
      out["process_types"][name] = command;
    }
    for (const auto& bp : built->buildpacks) {
      out["buildpacks"].push_back({{"ref", bp.ref}, {"name", bp.name}, {"commit", bp.commit}});
    }
    std::puts(out.dump(2).c_str());
  } else {
    std::printf("slug:          %s\nsha256:        %s\nsize:          %s\n", slug->path.c_str(),
                slug->sha256.c_str(), format_size(slug->size).c_str());
    for (const auto& [name, command] : built->process_types) {
      std::printf("process type:  %s: %s\n", name.c_str(), command.c_str());
    }
  }
  return {};
}

} // namespace

void add_build_command(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<BuildArgs>();
  auto* cmd = app.add_subcommand("build", "compile an app's source into a slug with buildpacks");
  cmd->add_option("SRC_DIR", args->source, "the app's source directory")->required();
  cmd->add_option("-o,--output", args->output,
                  "where to write the slug; in an existing directory it is named SHA256.tar.zst")
      ->required();
  cmd->add_option("--buildpack", args->buildpacks,
                  "a buildpack to use (built-in name, absolute path or git URL[#ref]); repeat "
                  "for several");
  cmd->add_option("--cache", args->cache, "CACHE_DIR kept between builds");
  cmd->add_option("--env-dir", args->env_dir, "ENV_DIR: one file per config var");
  cmd->add_option("--source-version", args->source_version, "the commit being built");
  cmd->add_flag("--json", args->json, "print the result as JSON on stdout");
  cmd->callback([&globals, &action, args] {
    action = [&globals, args] { return run_build(globals, *args); };
  });
}

} // namespace slipway::cli
