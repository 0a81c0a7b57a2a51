// releases, releases:info, releases:output, rollback
#include <cstdio>

#include "cli/cli.hpp"
#include "common/atomic_file.hpp"
#include "runtime/apps.hpp"
#include "runtime/release_store.hpp"
#include "runtime/releaser.hpp"

namespace slipway::cli {

namespace fs = std::filesystem;

namespace {

struct ReleasesArgs {
  std::string app;
  std::string version;
  int count = 20;
  bool json = false;
  bool no_wait = false;
};

Expected<void> list(const Globals& globals, const ReleasesArgs& args) {
  auto layout = globals.layout();
  if (auto exists = require_app(layout, args.app); !exists) {
    return exists;
  }
  ReleaseStore store(layout, args.app);
  std::vector<std::string> problems;
  auto releases = store.list(&problems);
  for (const auto& problem : problems) {
    print_line(fmt::format("warning: {}", problem));
  }
  auto live = store.live_version();
  std::reverse(releases.begin(), releases.end());
  if (args.count > 0 && releases.size() > static_cast<std::size_t>(args.count)) {
    releases.resize(static_cast<std::size_t>(args.count));
  }
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& release : releases) {
      out.push_back(release_json(layout, release, release.version == live));
    }
    std::puts(out.dump(2).c_str());
    return {};
  }
  std::printf("=== %s releases%s\n", args.app.c_str(),
              live ? fmt::format(" (live: v{})", *live).c_str() : "");
  for (const auto& release : releases) {
    std::printf("%-5s %s %-10s %s  %-7s  %s\n", fmt::format("v{}", release.version).c_str(),
                release.version == live ? "*" : " ", display_status(layout, release).c_str(),
                format_time(release.created_at).c_str(), release.commit.substr(0, 7).c_str(),
                release.description.c_str());
  }
  return {};
}

// The release `args.version` names, or the live one.
Expected<Release> chosen(const Layout& layout, const ReleasesArgs& args) {
  if (auto exists = require_app(layout, args.app); !exists) {
    return std::unexpected(exists.error());
  }
  ReleaseStore store(layout, args.app);
  if (args.version.empty()) {
    auto live = store.live();
    if (!live) {
      return std::unexpected(live.error());
    }
    if (!*live) {
      return fail("'{}' has no live release", args.app);
    }
    return **live;
  }
  auto version = parse_version(args.version);
  if (!version) {
    return std::unexpected(version.error());
  }
  return store.get(*version);
}

Expected<void> info(const Globals& globals, const ReleasesArgs& args) {
  auto layout = globals.layout();
  auto release = chosen(layout, args);
  if (!release) {
    return std::unexpected(release.error());
  }
  bool live = ReleaseStore(layout, args.app).live_version() == release->version;
  auto json = release_json(layout, *release, live);
  if (args.json) {
    std::puts(json.dump(2).c_str());
    return {};
  }
  std::printf("=== %s v%d%s\n", args.app.c_str(), release->version, live ? " (live)" : "");
  auto row = [](const char* key, const std::string& value) {
    if (!value.empty()) {
      std::printf("%-16s %s\n", key, value.c_str());
    }
  };
  auto joined = [](const nlohmann::json& list) {
    std::string out;
    for (const auto& item : list) {
      out += (out.empty() ? "" : ", ") + item.get<std::string>();
    }
    return out;
  };
  row("Status:", json["status"]);
  row("Description:", release->description);
  row("Reason:", release->reason);
  row("Created:", json["created_at"]);
  row("By:", release->user);
  row("Commit:", release->commit);
  row("Slug:", release->slug);
  row("Buildpacks:", joined(json["buildpacks"]));
  row("Stack:", release->stack);
  row("Release command:", release->release_command);
  for (const auto& [name, command] : release->process_types) {
    row("Process type:", name + ": " + command);
  }
  row("Config vars:", joined(json["config_vars"]));
  return {};
}

Expected<void> output(const Globals& globals, const ReleasesArgs& args) {
  auto layout = globals.layout();
  if (auto exists = require_app(layout, args.app); !exists) {
    return exists;
  }
  ReleaseStore store(layout, args.app);
  std::optional<int> version;
  if (!args.version.empty()) {
    auto parsed = parse_version(args.version);
    if (!parsed) {
      return std::unexpected(parsed.error());
    }
    if (auto release = store.get(*parsed); !release) {
      return std::unexpected(release.error());
    }
    version = *parsed;
  } else {
    // The newest release that ran a release command.
    auto releases = store.list();
    for (auto it = releases.rbegin(); it != releases.rend() && !version; ++it) {
      std::error_code ec;
      if (fs::exists(store.output_log(it->version), ec)) {
        version = it->version;
      }
    }
    if (!version) {
      return fail("no release of '{}' has run a release command", args.app);
    }
  }
  std::error_code ec;
  if (!fs::exists(store.output_log(*version), ec)) {
    return fail("v{} has no release command output", *version);
  }
  auto text = read_file(store.output_log(*version));
  if (!text) {
    return std::unexpected(text.error());
  }
  std::fwrite(text->data(), 1, text->size(), stdout);
  return {};
}

Expected<void> run_rollback(const Globals& globals, const ReleasesArgs& args) {
  auto operation = open_app(globals, args.app, args.no_wait);
  if (!operation) {
    return std::unexpected(operation.error());
  }
  std::optional<int> target;
  if (!args.version.empty()) {
    auto version = parse_version(args.version);
    if (!version) {
      return std::unexpected(version.error());
    }
    target = *version;
  }
  auto release = rollback(operation->context(), target);
  if (!release) {
    return std::unexpected(release.error());
  }
  return {};
}

} // namespace

void add_releases_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<ReleasesArgs>();

  auto* releases = app.add_subcommand("releases", "list an app's releases, newest first");
  add_app_option(releases, args->app);
  releases->add_option("-n,--num", args->count, "how many to show (0: all)");
  releases->add_flag("--json", args->json, "print JSON");
  releases->callback([&, args] { action = [&globals, args] { return list(globals, *args); }; });

  auto* show = add_command(app, "releases:info", "show a release (default: the live one)");
  add_app_option(show, args->app);
  show->add_option("VERSION", args->version, "e.g. v3");
  show->add_flag("--json", args->json, "print JSON");
  show->callback([&, args] { action = [&globals, args] { return info(globals, *args); }; });

  auto* out =
      add_command(app, "releases:output", "print a release command's output (default: the newest)");
  add_app_option(out, args->app);
  out->add_option("VERSION", args->version, "e.g. v3");
  out->callback([&, args] { action = [&globals, args] { return output(globals, *args); }; });

  auto* back = app.add_subcommand(
      "rollback", "release an earlier release's slug and config again (default: the one "
                  "before the live one)");
  add_app_option(back, args->app);
  back->add_option("VERSION", args->version, "e.g. v3");
  back->add_flag("--no-wait", args->no_wait, "fail at once if the app is busy");
  back->callback([&, args] { action = [&globals, args] { return run_rollback(globals, *args); }; });
}

} // namespace slipway::cli
