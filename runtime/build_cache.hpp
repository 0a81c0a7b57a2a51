// The app's build cache (apps/APP/cache, CACHE_DIR) during a deploy: moved into the
// build's root next to the build dir, so that the buildpacks see /cache and /app in one
// mount and can hard-link the cache's files into the app rather than copy them
// (Sandbox::set_root), and moved home once the buildpacks are done.
//
// An app's deploys run one at a time (its lock), so one build holds the cache at a time.
// A deploy that dies holding it leaves it in its scratch dir; housekeeping brings it home
// (recover_build_cache) before it empties the app's tmp/.
#pragma once

#include <filesystem>
#include <string>

#include "common/error.hpp"
#include "runtime/layout.hpp"

namespace slipway {

class BuildCache {
 public:
  // Moves the app's cache to ROOT/cache (an empty one when it has none; first, one that a
  // dead deploy held comes home). When it cannot be moved there (a link, a mount point,
  // another file system), the build uses it where it is. The caller holds the app's lock.
  static Expected<BuildCache> take(const Layout& layout, const std::string& app,
                                   const std::filesystem::path& root);

  BuildCache(BuildCache&& other) noexcept;
  BuildCache& operator=(BuildCache&&) = delete;
  ~BuildCache(); // puts it back, when put_back() was not called

  // CACHE_DIR for the build.
  const std::filesystem::path& dir() const { return m_dir; }

  // Home again. A directory a build made there meanwhile (a CI test run, which does not
  // take the cache) goes to the app's trash. What the build left at ROOT/cache is put back
  // only if it is still a directory.
  Expected<void> put_back();

 private:
  BuildCache(const Layout& layout, std::string app, std::filesystem::path dir, bool moved)
      : m_layout(&layout), m_app(std::move(app)), m_dir(std::move(dir)), m_moved(moved) {}

  const Layout* m_layout;
  std::string m_app;
  std::filesystem::path m_dir;
  bool m_moved;
};

// Under the app's lock, when no deploy runs: a cache that a dead deploy left in its scratch
// dir (tmp/deploy-XXXXXX/root/cache) goes home, if the app has none. Returns whether one did.
bool recover_build_cache(const Layout& layout, const std::string& app);

} // namespace slipway
