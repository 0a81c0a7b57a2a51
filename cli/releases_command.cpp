// releases, releases:info, releases:output, rollback
#include <cstdio>

#include <fmt/ranges.h>

#include "cli/cli.hpp"
#include "ops/releases.hpp"

namespace slipway::cli {

namespace {

struct ReleasesArgs {
  std::string app;
  std::string version;
  std::size_t count = 20;
  bool json = false;
  bool no_wait = false;
};

// VERSION, if given.
Expected<std::optional<int>> version_argument(const ReleasesArgs& args) {
  if (args.version.empty()) {
    return std::nullopt;
  }
  return TRY(parse_version(args.version));
}

Expected<void> list(const Globals& globals, const ReleasesArgs& args) {
  auto list =
      TRY(ops::list_releases(TRY(globals.context()), {.app = args.app, .count = args.count}));
  for (const auto& warning : list.warnings) {
    print_line(fmt::format("warning: {}", warning));
  }
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& release : list.releases) {
      out.push_back(release_json(release));
    }
    std::puts(out.dump(2).c_str());
    return {};
  }
  if (list.releases.empty()) {
    print_line(fmt::format("{} has no releases yet", args.app));
    return {};
  }
  std::printf("=== %s releases%s\n", args.app.c_str(),
              list.live ? fmt::format(" (live: v{})", *list.live).c_str() : "");
  for (const auto& [release, live, status] : list.releases) {
    std::printf("%-5s %s %-10s %s  %-7s  %s\n", fmt::format("v{}", release.version).c_str(),
                live ? "*" : " ", status.c_str(), format_time(release.created_at).c_str(),
                release.commit.substr(0, 7).c_str(), release.description.c_str());
  }
  return {};
}

Expected<void> info(const Globals& globals, const ReleasesArgs& args) {
  auto details = TRY(ops::release_details(
      TRY(globals.context()), {.app = args.app, .version = TRY(version_argument(args))}));
  auto json = release_json(details);
  if (args.json) {
    std::puts(json.dump(2).c_str());
    return {};
  }
  const Release& release = details.release;
  std::printf("=== %s v%d%s\n", args.app.c_str(), release.version, details.live ? " (live)" : "");
  auto row = [](const char* key, const std::string& value) {
    if (!value.empty()) {
      std::printf("%-16s %s\n", key, value.c_str());
    }
  };
  auto joined = [](const nlohmann::json& list) {
    return fmt::format("{}", fmt::join(list.get<std::vector<std::string>>(), ", "));
  };
  row("Status:", details.status);
  row("Description:", release.description);
  row("Reason:", release.reason);
  row("Created:", json["created_at"]);
  row("By:", release.user);
  row("Commit:", release.commit);
  row("Slug:", release.slug);
  if (release.promoted_from) {
    row("Promoted from:",
        fmt::format("{} v{}", release.promoted_from->app, release.promoted_from->version));
  }
  row("Buildpacks:", joined(json["buildpacks"]));
  row("Stack:", release.stack);
  row("Release command:", release.release_command);
  for (const auto& [name, command] : release.process_types) {
    row("Process type:", name + ": " + command);
  }
  row("Config vars:", joined(json["config_vars"]));
  return {};
}

Expected<void> output(const Globals& globals, const ReleasesArgs& args) {
  print_text(TRY(ops::release_output(TRY(globals.context()),
                                     {.app = args.app, .version = TRY(version_argument(args))})));
  return {};
}

Expected<void> roll_back(const Globals& globals, const ReleasesArgs& args) {
  TRY(ops::rollback(TRY(globals.context(!args.no_wait)),
                    {.app = args.app, .version = TRY(version_argument(args))}));
  return {};
}

} // namespace

void add_releases_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<ReleasesArgs>();

  auto* releases = app.add_subcommand("releases", "list an app's releases, newest first");
  add_app_option(releases, args->app);
  releases->add_option("-n,--num", args->count, "how many to show (0: all)");
  releases->add_flag("--json", args->json, "print JSON");
  releases->callback(choose(globals, action, args, list));

  auto* show = add_command(app, "releases:info", "show a release (default: the live one)");
  add_app_option(show, args->app);
  show->add_option("VERSION", args->version, "e.g. v3");
  show->add_flag("--json", args->json, "print JSON");
  show->callback(choose(globals, action, args, info));

  auto* out =
      add_command(app, "releases:output", "print a release command's output (default: the newest)");
  add_app_option(out, args->app);
  out->add_option("VERSION", args->version, "e.g. v3");
  out->callback(choose(globals, action, args, output));

  auto* back = app.add_subcommand(
      "rollback", "release an earlier release's slug and config again (default: the one "
                  "before the live one)");
  add_app_option(back, args->app);
  back->add_option("VERSION", args->version, "e.g. v3");
  back->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  back->callback(choose(globals, action, args, roll_back));
}

} // namespace slipway::cli
