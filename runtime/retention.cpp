#include "runtime/retention.hpp"

#include <algorithm>
#include <set>

#include "runtime/apps.hpp"
#include "runtime/release_store.hpp"
#include "runtime/slug_store.hpp"

namespace slipway {

namespace {

// The newest keep_releases versions and the live one, whose slugs and unpacked trees stay.
std::vector<int> kept_versions(const ReleaseStore& store, const Config& config) {
  auto versions = store.versions();
  auto keep = std::min(versions.size(), static_cast<std::size_t>(config.release.keep_releases));
  std::vector<int> kept(versions.end() - static_cast<std::ptrdiff_t>(keep), versions.end());
  if (auto live = store.live_version(); live && std::ranges::find(kept, *live) == kept.end()) {
    kept.push_back(*live);
  }
  return kept;
}

} // namespace

Expected<std::size_t> prune_slugs(const Layout& layout, const Config& config) {
  // Counted under the store's lock, so no slug can be stored and referenced meanwhile.
  auto in_use = [&]() -> Expected<std::set<std::string>> {
    std::set<std::string> referenced;
    for (const auto& app : list_apps(layout)) {
      ReleaseStore store(layout, app);
      // Only the kept records are read: what older ones name is not kept anyway.
      for (int version : kept_versions(store, config)) {
        auto release = store.get(version);
        if (!release) {
          // An unreadable record might name a slug: keep everything rather than guess.
          return fail("not pruning slugs: {}", release.error().message);
        }
        if (release->has_slug()) {
          referenced.insert(release->slug_file);
        }
      }
    }
    return referenced;
  };
  return SlugStore(layout).prune(in_use);
}

std::size_t prune_unpacked(const Layout& layout, const Config& config, const std::string& app) {
  ReleaseStore store(layout, app);
  auto kept = kept_versions(store, config);
  std::size_t removed = 0;
  for (int version : store.versions()) {
    std::filesystem::path unpacked = layout.unpacked_dir(app, version);
    std::error_code ec;
    if (std::ranges::find(kept, version) == kept.end() && std::filesystem::exists(unpacked, ec)) {
      // Out of the way in one rename (a reader sees all of it or none), then deleted.
      std::filesystem::path doomed = unpacked.parent_path() / ".app-pruned";
      std::filesystem::remove_all(doomed, ec);
      std::filesystem::rename(unpacked, doomed, ec);
      std::filesystem::remove_all(doomed, ec);
      removed += ec ? 0 : 1;
    }
  }
  return removed;
}

} // namespace slipway
