#include "runtime/retention.hpp"

#include <algorithm>
#include <set>

#include "runtime/apps.hpp"
#include "runtime/release_store.hpp"
#include "runtime/slug_store.hpp"

namespace slipway {

Expected<std::size_t> prune_slugs(const Layout& layout, const Config& config) {
  // Counted under the store's lock, so no slug can be stored and referenced meanwhile.
  auto in_use = [&]() -> Expected<std::set<std::string>> {
    std::set<std::string> referenced;
    for (const auto& app : list_apps(layout)) {
      ReleaseStore store(layout, app);
      std::vector<std::string> problems;
      auto releases = store.list(&problems);
      if (!problems.empty()) {
        // An unreadable record might name a slug: keep everything rather than guess.
        return fail("not pruning slugs: {}", problems.front());
      }
      auto live = store.live_version();
      std::ranges::sort(releases, std::greater{}, &Release::version);
      for (std::size_t i = 0; i < releases.size(); ++i) {
        bool kept = i < static_cast<std::size_t>(config.release.keep_releases) ||
                    releases[i].version == live;
        if (kept && releases[i].has_slug()) {
          referenced.insert(releases[i].slug_file);
        }
      }
    }
    return referenced;
  };
  return SlugStore(layout).prune(in_use);
}

std::size_t prune_unpacked(const Layout& layout, const Config& config, const std::string& app) {
  ReleaseStore store(layout, app);
  auto releases = store.list();
  auto live = store.live_version();
  std::ranges::sort(releases, std::greater{}, &Release::version);
  std::size_t removed = 0;
  for (std::size_t i = static_cast<std::size_t>(config.release.keep_releases); i < releases.size();
       ++i) {
    std::filesystem::path unpacked = layout.unpacked_dir(app, releases[i].version);
    std::error_code ec;
    if (releases[i].version != live && std::filesystem::exists(unpacked, ec)) {
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
