#include "ops/releases.hpp"

#include <algorithm>
#include <map>

#include "common/files.hpp"
#include "common/output.hpp"
#include "compiler/source_tree.hpp"
#include "ops/rights.hpp"
#include "runtime/release_store.hpp"
#include "runtime/releaser.hpp"

namespace slipway::ops {

namespace fs = std::filesystem;

Expected<ReleaseList> list_releases(const Context& context, const ListReleases& request) {
  TRY(authorize(context, "releases", request.app));
  ReleaseStore store(context.layout, request.app);
  ReleaseList out;
  auto releases = store.list(&out.warnings);
  out.live = store.live_version();
  std::ranges::reverse(releases);
  if (request.count > 0 && releases.size() > request.count) {
    releases.resize(request.count);
  }
  // Config changes share their slug: each slug's file is looked for once.
  std::map<std::string, std::string> status_by_slug;
  for (auto& release : releases) {
    std::string status = release.has_slug() && release.status == ReleaseStatus::succeeded
                             ? status_by_slug.try_emplace(release.slug_file, "").first->second
                             : "";
    if (status.empty()) {
      status = display_status(context.layout, release);
      if (release.has_slug() && release.status == ReleaseStatus::succeeded) {
        status_by_slug[release.slug_file] = status;
      }
    }
    bool live = release.version == out.live;
    out.releases.push_back({std::move(release), live, std::move(status)});
  }
  return out;
}

Expected<ReleaseDetails> release_details(const Context& context, const ShowRelease& request) {
  TRY(authorize(context, "releases:info", request.app));
  ReleaseStore store(context.layout, request.app);
  Release release;
  if (request.version) {
    release = TRY(store.get(*request.version));
  } else {
    auto live = TRY(store.live());
    if (!live) {
      return fail("'{}' has no live release", request.app);
    }
    release = std::move(*live);
  }
  bool live = store.live_version() == release.version;
  std::string status = display_status(context.layout, release);
  return ReleaseDetails{.release = std::move(release), .live = live, .status = std::move(status)};
}

Expected<std::string> release_output(const Context& context, const ShowRelease& request) {
  TRY(authorize(context, "releases:output", request.app));
  ReleaseStore store(context.layout, request.app);
  std::optional<int> version = request.version;
  std::error_code ec;
  if (version) {
    TRY(store.get(*version));
  } else {
    auto releases = store.list();
    auto ran = std::find_if(releases.rbegin(), releases.rend(), [&](const Release& release) {
      return fs::exists(store.output_log(release.version), ec);
    });
    if (ran == releases.rend()) {
      return fail("no release of '{}' has run a release command", request.app);
    }
    version = ran->version;
  }
  if (!fs::exists(store.output_log(*version), ec)) {
    return fail("v{} has no release command output", *version);
  }
  return read_file(store.output_log(*version));
}

Expected<Release> rollback(const Context& context, const Rollback& request) {
  TRY(authorize(context, "rollback", request.app));
  return slipway::rollback(context.release_context(request.app), request.version);
}

Expected<Release> deploy_directory(const Context& context, const DeployDirectory& request) {
  TRY(authorize(context, "deploy", request.app));
  std::error_code ec;
  if (!fs::is_directory(request.source, ec)) {
    return usage_error("source '{}' is not a directory", request.source.string());
  }
  context.on_output(
      step_line(fmt::format("Building {}{}", request.app,
                            request.commit.empty() ? "" : " from " + request.commit.substr(0, 7))));
  const fs::path& source = request.source;
  return deploy(context.release_context(request.app),
                {.fill_source =
                     [&](const fs::path& build_dir) { return copy_source_tree(source, build_dir); },
                 .commit = request.commit,
                 .description = request.description,
                 .buildpacks = request.buildpacks,
                 .trusted_source = true});
}

} // namespace slipway::ops
